"""Snowplow Micro's API over the pipeline's Elasticsearch: the good and bad aliases the sinks
write. The documents hold less than Micro's memory: no raw event for good events, and entities
by vendor, name and model only (see the README's Micro section)."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from elasticsearch import AsyncElasticsearch

from libs.formats.enriched import shredded_name
from libs.formats.iglu import IgluError, schema_key
from services.micro.api import ResetRefused
from services.micro.shapes import (
    BadFilters,
    FilterError,
    GoodFilters,
    bad_row_summary,
    event_schema,
    object_at,
)
from services.micro.store import Summary

logger = logging.getLogger(__name__)

# Elasticsearch's own limit on one page of hits (index.max_result_window).
MAX_HITS = 10_000


def good_query(filters: GoodFilters) -> dict[str, Any]:
    """Micro's good-event filters as a query on the good index."""
    clauses: list[dict[str, Any]] = []
    if filters.event_type is not None:
        clauses.append({"term": {"event": filters.event_type}})
    if filters.schema is not None:
        key = _key(filters.schema, "schema")
        clauses += [
            {"term": {"event_vendor": key.vendor}},
            {"term": {"event_name": key.name}},
            {"term": {"event_format": key.format}},
            {"term": {"event_version": str(key.version)}},
        ]
    for uri in filters.contexts:
        _key(uri, "contexts")
        clauses.append({"exists": {"field": shredded_name("contexts", uri)}})
    return {"bool": {"filter": clauses}}


def bad_query(filters: BadFilters) -> dict[str, Any]:
    """Micro's bad-event filters as a query on the bad index: the vendor and version of the
    request, wherever the row's type keeps them."""
    clauses: list[dict[str, Any]] = []
    for name, value in (("vendor", filters.vendor), ("version", filters.version)):
        if value is not None:
            clauses.append(
                {
                    "bool": {
                        "should": [
                            {"term": {f"data.payload.{name}": value}},
                            {"term": {f"data.payload.raw.{name}": value}},
                        ],
                        "minimum_should_match": 1,
                    }
                }
            )
    return {"bool": {"filter": clauses}}


def _key(uri: str, name: str) -> Any:
    try:
        return schema_key(uri)
    except IgluError as error:
        raise FilterError(f"{name} must hold Iglu URIs: {error}") from None


def good_event(document: dict[str, Any]) -> dict[str, Any]:
    """Micro's GoodEvent for a good document: the event as indexed, no raw event, and the
    entity columns it has (`contexts_{vendor}_{name}_{model}`) for contexts."""
    return {
        "event": document,
        "rawEvent": None,
        "eventType": document.get("event"),
        "schema": event_schema(document),
        "contexts": sorted(key for key in document if key.startswith("contexts_")),
    }


def bad_event(document: dict[str, Any]) -> dict[str, Any]:
    """Micro's BadEvent for a bad document: the request and the raw event as far as the row
    keeps them, and why."""
    data = object_at(document, "data")
    payload = object_at(data, "payload")
    raw = object_at(payload, "raw")
    row = {"schema": document.get("schema"), "data": data}
    return {
        "collectorPayload": payload if payload and not raw else None,
        "rawEvent": raw or None,
        "errors": [bad_row_summary(row), orjson.dumps(row).decode()],
    }


class ElasticMicroStore:
    def __init__(
        self,
        client: AsyncElasticsearch,
        good_index: str,
        bad_index: str,
        *,
        reset_enabled: bool,
    ) -> None:
        self._client = client
        self._good = good_index
        self._bad = bad_index
        self._reset_enabled = reset_enabled

    async def summary(self) -> Summary:
        good = await self._client.count(
            index=self._good, ignore_unavailable=True, allow_no_indices=True
        )
        bad = await self._client.count(
            index=self._bad, ignore_unavailable=True, allow_no_indices=True
        )
        return Summary(int(good["count"]), int(bad["count"]))

    async def good(self, filters: GoodFilters) -> list[dict[str, Any]]:
        hits = await self._newest(self._good, good_query(filters), filters.limit)
        return [good_event(hit) for hit in hits]

    async def bad(self, filters: BadFilters) -> list[dict[str, Any]]:
        hits = await self._newest(self._bad, bad_query(filters), filters.limit)
        return [bad_event(hit) for hit in hits]

    async def reset(self) -> Summary:
        if not self._reset_enabled:
            raise ResetRefused(
                "reset would delete every event of the pipeline; "
                "set [console] micro_reset_enabled = true to allow it"
            )
        before = await self.summary()
        for index in (self._good, self._bad):
            await self._client.delete_by_query(
                index=index,
                query={"match_all": {}},
                refresh=True,
                conflicts="proceed",
                ignore_unavailable=True,
                allow_no_indices=True,
            )
        logger.warning(
            "micro reset deleted the pipeline's events",
            extra={"good": before.good, "bad": before.bad},
        )
        return await self.summary()

    async def _newest(
        self, index: str, query: dict[str, Any], limit: int | None
    ) -> list[dict[str, Any]]:
        answer = await self._client.search(
            index=index,
            query=query,
            size=MAX_HITS if limit is None else min(limit, MAX_HITS),
            sort=[{"@timestamp": {"order": "desc"}}],
            ignore_unavailable=True,
            allow_no_indices=True,
        )
        return [hit["_source"] for hit in answer["hits"]["hits"]]
