"""`furrow micro`'s console answers from memory what the pipeline's console asks a real
Elasticsearch: the same documents, loaded into both, give the same events, histograms, groups,
counts and lookups, question by question."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from devstack.indices import connected, delete_alias_and_indices
from libs.pipes import Record
from services.console import queries
from services.console.index import ElasticIndex, EventsIndex
from services.console.memory import MemoryIndex
from services.console.queries import EventFilters, Kind, TimeRange
from services.sinks.documents import to_document
from tests.integration.console_data import (
    CHECKOUT,
    GEOLOCATION,
    enriched,
    index,
    requests,
    write_schemas,
)
from tests.integration.processes import Names

INJECTIONS = ['"} OR 1=1', '{"match_all": {}}', "*", "doc['x'].value"]


class Both:
    def __init__(
        self, elastic: ElasticIndex, memory: MemoryIndex, tag: str, loaded_at: datetime
    ) -> None:
        self.elastic = elastic
        self.memory = memory
        self.tag = tag
        self.loaded_at = loaded_at
        self.indices: tuple[EventsIndex, EventsIndex] = (elastic, memory)


@pytest.fixture(scope="module")
async def both(
    elasticsearch_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Both]:
    names = Names()
    sent, _ = requests(names.tag)
    outputs = enriched(write_schemas(tmp_path_factory.mktemp("schemas")), sent)
    loaded_at = datetime.now(UTC)
    values: dict[Kind, list[bytes]] = {
        "good": [line.encode() for line in outputs.good],
        "bad": outputs.bad,
    }
    memory = MemoryIndex(1000)
    for kind, records in values.items():
        for offset, value in enumerate(records):
            memory.add(kind, to_document(kind, Record(kind, 0, offset, value)))
    async with connected(elasticsearch_url) as client:
        aliases = {kind: names.alias(kind) for kind in values}
        for kind, records in values.items():
            await index(client, kind, aliases[kind], records)
        try:
            elastic = ElasticIndex(client, aliases["good"], aliases["bad"])
            yield Both(elastic, memory, names.tag, loaded_at)
        finally:
            for alias in aliases.values():
                await delete_alias_and_indices(client, alias)


def last(hours: int = 1) -> TimeRange:
    now = datetime.now(UTC)
    return TimeRange(now - timedelta(hours=hours), now + timedelta(minutes=1))


async def events(index: EventsIndex, kind: Kind, filters: EventFilters) -> dict[str, Any]:
    span = last()
    width = queries.histogram_width(span.end - span.start)
    page = await index.events(kind, span, filters, queries.MAX_PAGE_SIZE, width)
    return {
        "total": page.total,
        "histogram": page.histogram,
        "ids": sorted(
            str(source.get("event_id") or source.get("@timestamp")) for source in page.sources
        ),
        "count": len(page.sources),
    }


def filter_cases(tag: str) -> list[EventFilters]:
    shop, blog = f"shop-{tag}", f"blog-{tag}"
    return [
        EventFilters(),
        EventFilters({"app_id": shop}),
        EventFilters({"app_id": blog, "event_name": "event"}),
        EventFilters({"event_name": "page_view", "user_id": "bob"}),
        EventFilters({"platform": "srv"}),
        EventFilters(schema=CHECKOUT),
        EventFilters(schema=GEOLOCATION),
        EventFilters(schema="iglu:com.acme/nowhere/jsonschema/1-0-0"),
        EventFilters({"app_id": blog}, schema=CHECKOUT),
        EventFilters(text=shop),
        EventFilters(text="alice"),
        EventFilters(text="10.5"),
        EventFilters(text="page_view"),
        EventFilters(text="schema_violations"),
        *(EventFilters(text=injection) for injection in INJECTIONS),
        *(EventFilters({"app_id": injection}) for injection in INJECTIONS),
    ]


async def test_events_totals_histograms_and_pages_are_the_same(both: Both) -> None:
    compared = 0
    for filters in filter_cases(both.tag):
        for kind in queries.KINDS:
            elastic, memory = [await events(index, kind, filters) for index in both.indices]
            assert memory == elastic, (kind, filters)
            compared += elastic["total"]
    # Something was found, not only nothing by both.
    assert compared > 50


async def test_bad_row_groups_are_the_same(both: Both) -> None:
    for filters in (EventFilters(), EventFilters({"app_id": f"shop-{both.tag}"})):
        elastic, memory = [await index.bad_groups(last(), filters) for index in both.indices]
        assert [group.count for group in elastic] == [3, 2, 1] or filters.fields
        assert [_comparable(asdict(group)) for group in memory] == [
            _comparable(asdict(group)) for group in elastic
        ]


def _comparable(group: dict[str, Any]) -> dict[str, Any]:
    """A group less the order of examples written in the same millisecond."""
    examples = group.pop("examples")
    return {**group, "examples": len(examples)}


@pytest.mark.parametrize("by", sorted(queries.COUNTED_BY))
@pytest.mark.parametrize("bucket", ["1m", "15m"])
async def test_counts_are_the_same(both: Both, by: str, bucket: str) -> None:
    elastic, memory = [await index.counts(last(), by, bucket) for index in both.indices]
    assert memory == elastic
    assert sum(sum(bar["counts"].values()) for bar in elastic) >= 12


async def test_schema_counts_are_the_same(both: Both) -> None:
    elastic, memory = [await index.schema_counts(last()) for index in both.indices]
    assert memory == elastic
    assert elastic["good"][CHECKOUT] >= 2 and elastic["bad"][CHECKOUT] >= 3


async def test_lookups_are_the_same(both: Both) -> None:
    page = await both.elastic.events("good", last(), EventFilters(), 1, "1m")
    [good_id] = [source["event_id"] for source in page.sources]
    groups = await both.elastic.bad_groups(last(), EventFilters())
    bad_id = groups[0].examples[0]["data"]["payload"]["enriched"]["event_id"]
    for event_id in (good_id, bad_id, "not-a-uuid", str(uuid.uuid4())):
        elastic, memory = [await index.lookup(event_id) for index in both.indices]
        assert [len(found) for found in memory] == [len(found) for found in elastic], event_id
        assert memory[0] == elastic[0]


async def test_the_tail_finds_the_same_documents(both: Both) -> None:
    # The tail looks back from `since`: from the time of the load, whenever this test runs.
    since = both.loaded_at
    for kind in queries.KINDS:
        elastic, memory = [
            await index.tail(kind, since, EventFilters({"app_id": f"blog-{both.tag}"}))
            for index in both.indices
        ]
        assert sorted(document_id for document_id, _ in memory) == sorted(
            document_id for document_id, _ in elastic
        )
        assert elastic


async def test_the_memory_keeps_its_cap_and_replaces_a_document_of_the_same_id(
    tmp_path: Path,
) -> None:
    outputs = enriched(write_schemas(tmp_path), requests("cap")[0])
    memory = MemoryIndex(3)
    for offset, line in enumerate(outputs.good):
        for _ in range(2):
            memory.add("good", to_document("good", Record("good", 0, offset, line.encode())))
    page = await memory.events("good", last(), EventFilters(), 10, "1m")
    kept = [source["event_id"] for source in page.sources]
    assert page.total == 3
    assert sorted(kept) == sorted(set(kept))
    last_three = [line.split("\t")[6] for line in outputs.good[-3:]]
    assert sorted(kept) == sorted(last_three)
