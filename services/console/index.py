"""Where the console finds events: the questions its views ask of good events and bad rows, and
the Elasticsearch indices that answer them on the pipeline (`furrow micro` answers them from
memory, services/console/memory.py).

Both hold documents of the shapes the sinks index (services/sinks/documents.py), so that a page
shows the same thing whichever answers it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from elasticsearch import AsyncElasticsearch

from services.console import queries
from services.console.queries import BadGroup, EventFilters, Kind, TimeRange


@dataclass(frozen=True)
class EventsPage:
    total: int
    # (bucket start in epoch seconds, count); None where the index does not exist yet.
    histogram: list[tuple[int, int]] | None
    # The newest first.
    sources: list[dict[str, Any]]


class EventsIndex(Protocol):
    async def events(
        self, kind: Kind, span: TimeRange, filters: EventFilters, size: int, width: str
    ) -> EventsPage:
        """The newest `size` events of `kind` in `span` matching `filters`, how many match in
        all, and their histogram in bars of `width`."""
        ...

    async def lookup(self, event_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The good event of this id, and the bad rows that name it, newest first."""
        ...

    async def bad_groups(self, span: TimeRange, filters: EventFilters) -> list[BadGroup]:
        """Bad rows in `span` grouped by type, schema and what went wrong, the largest first."""
        ...

    async def counts(self, span: TimeRange, by: str, bucket: str) -> list[dict[str, Any]]:
        """Good events per `bucket` and value of `by` (checked by queries.counts_width):
        `[{"start": ISO time, "counts": {value: n}}]`."""
        ...

    async def schema_counts(self, span: TimeRange) -> dict[Kind, dict[str, int]]:
        """Good events per event schema and bad rows per schema they name, by URI."""
        ...

    async def tail(
        self, kind: Kind, since: datetime, filters: EventFilters
    ) -> list[tuple[str, dict[str, Any]]]:
        """(id, document) of the newest events of `kind` from `since` less
        queries.TAIL_LOOKBACK, matching `filters`."""
        ...


class ElasticIndex:
    """The sinks' good and bad aliases; an alias not created yet holds nothing."""

    def __init__(self, client: AsyncElasticsearch, good_index: str, bad_index: str) -> None:
        self._client = client
        self._indices: dict[Kind, str] = {"good": good_index, "bad": bad_index}

    async def events(
        self, kind: Kind, span: TimeRange, filters: EventFilters, size: int, width: str
    ) -> EventsPage:
        answer = await self._search(kind, queries.events_search(kind, span, filters, size, width))
        return EventsPage(
            total=int(answer["hits"]["total"]["value"]),
            histogram=queries.histogram_points(answer["aggregations"])
            if "aggregations" in answer
            else None,
            sources=[hit["_source"] for hit in answer["hits"]["hits"]],
        )

    async def lookup(self, event_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        searches = queries.lookup_searches(event_id)
        good, bad = await asyncio.gather(
            self._search("good", searches["good"]), self._search("bad", searches["bad"])
        )
        return (
            [hit["_source"] for hit in good["hits"]["hits"]],
            [hit["_source"] for hit in bad["hits"]["hits"]],
        )

    async def bad_groups(self, span: TimeRange, filters: EventFilters) -> list[BadGroup]:
        answer = await self._search("bad", queries.bad_groups_search(span, filters))
        return queries.bad_groups(answer["aggregations"]) if "aggregations" in answer else []

    async def counts(self, span: TimeRange, by: str, bucket: str) -> list[dict[str, Any]]:
        answer = await self._search("good", queries.counts_search(span, by, bucket))
        return queries.counts(answer["aggregations"], by) if "aggregations" in answer else []

    async def schema_counts(self, span: TimeRange) -> dict[Kind, dict[str, int]]:
        searches = queries.schema_counts_searches(span)
        good, bad = await asyncio.gather(
            self._search("good", searches["good"]), self._search("bad", searches["bad"])
        )
        answers: dict[Kind, dict[str, Any]] = {"good": good, "bad": bad}
        return {
            kind: queries.schema_counts(kind, answer["aggregations"])
            if "aggregations" in answer
            else {}
            for kind, answer in answers.items()
        }

    async def tail(
        self, kind: Kind, since: datetime, filters: EventFilters
    ) -> list[tuple[str, dict[str, Any]]]:
        answer = await self._search(kind, queries.tail_search(kind, since, filters))
        return [(str(hit["_id"]), hit["_source"]) for hit in answer["hits"]["hits"]]

    async def _search(self, kind: Kind, body: dict[str, Any]) -> dict[str, Any]:
        answer = await self._client.search(
            index=self._indices[kind], **body, ignore_unavailable=True, allow_no_indices=True
        )
        return dict(answer.body)


class ElasticLogs:
    """The `logs` alias the log listener's sink writes."""

    def __init__(self, client: AsyncElasticsearch, index: str) -> None:
        self._client = client
        self._index = index

    async def lines(self, span: TimeRange, params: dict[str, str], size: int) -> dict[str, Any]:
        """The newest `size` lines the filters in `params` select, their total and the count
        per level."""
        answer = await self._client.search(
            index=self._index,
            **queries.logs_search(span, params, size),
            ignore_unavailable=True,
            allow_no_indices=True,
        )
        levels = answer.get("aggregations", {}).get("levels", {}).get("buckets", [])
        return {
            "total": int(answer["hits"]["total"]["value"]),
            "levels": {str(bucket["key"]): int(bucket["doc_count"]) for bucket in levels},
            "lines": [hit["_source"] for hit in answer["hits"]["hits"]],
        }
