"""`furrow micro`'s pure parts: Micro's filters and shapes, the capped store, and the sink that
runs the enricher's core on what the collector would have written to Kafka."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from libs.formats import badrows
from libs.iglu_client import Resolver
from libs.iglu_repositories import BuiltinRepository
from libs.pipes import Message
from services.console.memory import MemoryIndex
from services.console.queries import EventFilters, TimeRange
from services.enrich.core import Enricher
from services.micro.shapes import (
    BadFilters,
    FilterError,
    GoodFilters,
    bad_filters,
    bad_row_summary,
    event_schema,
    good_filters,
    query_filters,
)
from services.micro.sink import EnrichingSink
from services.micro.store import MemoryStore, keeps_bad, keeps_good
from tests.unit.test_enrich_core import get

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
SP = "iglu:com.snowplowanalytics.snowplow"
EID = "5b7c3e7a-2a1f-4c44-9d4e-0f7d1f0e9a11"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({}, GoodFilters()),
        ({"event_type": "page_view"}, GoodFilters(event_type="page_view")),
        (
            {"schema": f"{SP}/page_view/jsonschema/1-0-0", "limit": 2},
            GoodFilters(schema=f"{SP}/page_view/jsonschema/1-0-0", limit=2),
        ),
        ({"contexts": ["a", "b"]}, GoodFilters(contexts=("a", "b"))),
        ({"contexts": None, "limit": 0}, GoodFilters(limit=0)),
    ],
)
def test_good_filters_read(given: dict[str, Any], expected: GoodFilters) -> None:
    assert good_filters(given) == expected


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ({"evnt_type": "page_view"}, "unknown filter evnt_type"),
        ({"limit": -1}, "limit must be a whole number"),
        ({"limit": "3"}, "limit must be a whole number"),
        ({"limit": True}, "limit must be a whole number"),
        ({"contexts": "iglu:a/b/jsonschema/1-0-0"}, "contexts must be a list"),
        ({"contexts": [1]}, "contexts must be a list"),
        ({"schema": {"$ne": ""}}, "schema must be a string"),
    ],
)
def test_good_filters_refuse(given: dict[str, Any], reason: str) -> None:
    with pytest.raises(FilterError, match=reason):
        good_filters(given)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({}, BadFilters()),
        ({"vendor": "com.acme", "version": "v1", "limit": 1}, BadFilters("com.acme", "v1", 1)),
    ],
)
def test_bad_filters_read(given: dict[str, Any], expected: BadFilters) -> None:
    assert bad_filters(given) == expected


def test_bad_filters_refuse_good_ones() -> None:
    with pytest.raises(FilterError, match="unknown filter event_type"):
        bad_filters({"event_type": "page_view"})


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ([], {}),
        ([("limit", "5")], {"limit": 5}),
        ([("contexts", "a"), ("contexts", "b")], {"contexts": ["a", "b"]}),
        ([("schema", "s")], {"schema": "s"}),
    ],
)
def test_query_filters(pairs: list[tuple[str, str]], expected: dict[str, Any]) -> None:
    assert query_filters(pairs) == expected


@pytest.mark.parametrize(
    ("pairs", "reason"),
    [
        ([("limit", "five")], "limit must be"),
        ([("schema", "a"), ("schema", "b")], "more than once"),
    ],
)
def test_query_filters_refuse(pairs: list[tuple[str, str]], reason: str) -> None:
    with pytest.raises(FilterError, match=reason):
        query_filters(pairs)


PAGE_VIEW = {
    "eventType": "page_view",
    "schema": f"{SP}/page_view/jsonschema/1-0-0",
    "contexts": [f"{SP}/web_page/jsonschema/1-0-0", "iglu:com.acme/user/jsonschema/1-0-0"],
}


@pytest.mark.parametrize(
    ("filters", "kept"),
    [
        (GoodFilters(), True),
        (GoodFilters(event_type="page_view"), True),
        (GoodFilters(event_type="page_ping"), False),
        (GoodFilters(schema=f"{SP}/page_view/jsonschema/1-0-0"), True),
        (GoodFilters(schema=f"{SP}/page_view/jsonschema/1-0-1"), False),
        (GoodFilters(contexts=(f"{SP}/web_page/jsonschema/1-0-0",)), True),
        (
            GoodFilters(
                contexts=(f"{SP}/web_page/jsonschema/1-0-0", "iglu:com.acme/user/jsonschema/1-0-0")
            ),
            True,
        ),
        (GoodFilters(contexts=("iglu:com.acme/other/jsonschema/1-0-0",)), False),
    ],
)
def test_keeps_good(filters: GoodFilters, kept: bool) -> None:
    assert keeps_good(PAGE_VIEW, filters) is kept


TP2_BAD = {
    "collectorPayload": {"api": {"vendor": "com.snowplowanalytics.snowplow", "version": "tp2"}}
}


@pytest.mark.parametrize(
    ("event", "filters", "kept"),
    [
        (TP2_BAD, BadFilters(), True),
        (TP2_BAD, BadFilters(vendor="com.snowplowanalytics.snowplow"), True),
        (TP2_BAD, BadFilters(vendor="com.acme"), False),
        (TP2_BAD, BadFilters(version="tp2"), True),
        (TP2_BAD, BadFilters(version="tp1"), False),
        ({"collectorPayload": None}, BadFilters(vendor="com.acme", version="v1"), True),
    ],
)
def test_keeps_bad(event: dict[str, Any], filters: BadFilters, kept: bool) -> None:
    assert keeps_bad(event, filters) is kept


@pytest.mark.parametrize(
    ("event", "schema"),
    [
        (
            {
                "event_vendor": "com.acme",
                "event_name": "checkout",
                "event_format": "jsonschema",
                "event_version": "1-0-2",
            },
            "iglu:com.acme/checkout/jsonschema/1-0-2",
        ),
        ({"event_vendor": "com.acme", "event_name": "checkout"}, None),
    ],
)
def test_event_schema(event: dict[str, Any], schema: str | None) -> None:
    assert event_schema(event) == schema


SCHEMA_VIOLATION = badrows.schema_violations(
    "enrich",
    {"enriched": {}, "raw": {}},
    [
        {
            "schemaKey": "iglu:com.acme/checkout/jsonschema/1-0-0",
            "error": {
                "error": "ValidationError",
                "dataReports": [{"message": "-1 is less than 0", "path": "$.total"}],
            },
        }
    ],
    now=NOW,
)


@pytest.mark.parametrize(
    ("row", "summary"),
    [
        (
            SCHEMA_VIOLATION,
            "schema_violations: iglu:com.acme/checkout/jsonschema/1-0-0: $.total: "
            "-1 is less than 0",
        ),
        (
            badrows.size_violation(
                "collector",
                maximum_bytes=10,
                actual_bytes=20,
                expectation="a body of at most 10 bytes",
                payload="x",
                now=NOW,
            ),
            "size_violation: a body of at most 10 bytes",
        ),
        (
            badrows.generic_error("sink-good", ["not JSON"], "x", now=NOW),
            "generic_error: not JSON",
        ),
        (b'{"schema": 1}', "unknown"),
    ],
)
def test_bad_row_summary(row: bytes, summary: str) -> None:
    assert bad_row_summary(orjson.loads(row)) == summary


async def test_store_keeps_the_newest_first_up_to_its_cap() -> None:
    store = MemoryStore(max_events=3)
    for number in range(5):
        store.add_good({"eventType": "page_view", "n": number})
    store.add_bad({"collectorPayload": None, "n": 9})
    assert (await store.summary()).as_json() == {"total": 4, "good": 3, "bad": 1}
    assert [e["n"] for e in await store.good(GoodFilters())] == [4, 3, 2]
    assert [e["n"] for e in await store.good(GoodFilters(limit=1))] == [4]
    assert (await store.reset()).as_json() == {"total": 0, "good": 0, "bad": 0}
    assert await store.good(GoodFilters()) == []


def raw(query: dict[str, str], path: str = "/i") -> Message:
    return Message("raw", get(query, path))


async def sent(*messages: Message, documents: MemoryIndex | None = None) -> MemoryStore:
    documents = documents or MemoryIndex(100)
    store = MemoryStore(max_events=100, kept_alongside=[documents])
    sink = EnrichingSink(
        Enricher(validator=Resolver([BuiltinRepository()])), store, documents, "raw"
    )
    await sink.write(messages)
    return store


async def test_the_consoles_index_gets_the_documents_the_sinks_would_index() -> None:
    documents = MemoryIndex(100)
    store = await sent(
        raw({"e": "pv", "p": "web", "tv": "py-1", "eid": EID, "aid": "shop"}),
        raw({"e": "pp", "p": "web", "tv": "py-1", "eid": "not-a-uuid"}),
        Message("bad", badrows.generic_error("collector", ["too big"], "x", now=NOW)),
        documents=documents,
    )
    span = TimeRange(NOW - timedelta(days=3650), datetime.now(UTC) + timedelta(minutes=1))
    good = await documents.events("good", span, EventFilters(), 10, "1d")
    assert [(d["event_id"], d["app_id"]) for d in good.sources] == [(EID, "shop")]
    bad = await documents.events("bad", span, EventFilters(), 10, "1d")
    assert sorted(d["failure_type"] for d in bad.sources) == [
        "generic_error",
        "tracker_protocol_violations",
    ]
    await store.reset()
    assert (await documents.events("good", span, EventFilters(), 10, "1d")).total == 0


async def test_a_good_event_is_stored_with_its_raw_event() -> None:
    store = await sent(raw({"e": "pv", "p": "web", "tv": "py-1", "eid": EID, "aid": "shop"}))
    [good] = await store.good(GoodFilters())
    assert good["eventType"] == "page_view"
    assert good["schema"] == f"{SP}/page_view/jsonschema/1-0-0"
    assert good["contexts"] == []
    assert good["event"]["event_id"] == EID
    assert good["event"]["app_id"] == "shop"
    assert good["event"]["v_tracker"] == "py-1"
    assert good["rawEvent"]["api"] == {"vendor": "com.snowplowanalytics.snowplow", "version": "tp1"}
    assert good["rawEvent"]["parameters"]["aid"] == "shop"
    assert good["rawEvent"]["context"]["useragent"] == "Mozilla/5.0"
    assert (await store.summary()).as_json() == {"total": 1, "good": 1, "bad": 0}


async def test_an_invalid_event_is_bad_with_its_request_raw_event_and_reason() -> None:
    store = await sent(raw({"e": "pp", "p": "web", "tv": "py-1", "eid": "not-a-uuid"}))
    [bad] = await store.bad(BadFilters())
    assert bad["collectorPayload"]["api"]["version"] == "tp1"
    assert {"name": "eid", "value": "not-a-uuid"} in bad["collectorPayload"]["querystring"]
    assert bad["rawEvent"]["parameters"]["eid"] == "not-a-uuid"
    assert bad["errors"][0] == "tracker_protocol_violations: eid: a UUID"
    assert "not-a-uuid" in bad["errors"][1]
    assert orjson.loads(bad["errors"][1])["schema"].startswith(
        "iglu:com.snowplowanalytics.snowplow.badrows/tracker_protocol_violations/"
    )


async def test_an_unknown_path_is_an_adapter_failure_without_raw_event() -> None:
    store = await sent(raw({"e": "pv"}, path="/com.acme/v9"))
    [bad] = await store.bad(BadFilters(vendor="com.acme"))
    assert bad["rawEvent"] is None
    assert bad["collectorPayload"]["api"] == {"vendor": "com.acme", "version": "v9"}
    assert bad["errors"][0].startswith("adapter_failures")


async def test_undecodable_records_and_collector_bad_rows_are_bad_without_request() -> None:
    row = badrows.generic_error("collector", ["too big"], "x", now=NOW)
    store = await sent(Message("raw", b"not thrift"), Message("bad", row))
    bad = await store.bad(BadFilters(vendor="com.acme"))
    assert [b["collectorPayload"] for b in bad] == [None, None]
    assert bad[0]["errors"][0] == "generic_error: too big"
    assert bad[1]["errors"][0].startswith("collector_payload_format_violation")
