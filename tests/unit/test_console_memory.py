"""The console's in-memory answers, piece by piece (their agreement with Elasticsearch's is
tests/integration/test_console_memory.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.console.memory import bars, bucket_start, has_schema, has_text, keywords, matches
from services.console.queries import EventFilters, Kind, TimeRange

T = datetime(2026, 12, 3, 10, 7, 30, tzinfo=UTC)
ROW: dict[str, Any] = {
    "failure_type": "schema_violations",
    "data": {
        "failure": {
            "messages": [
                {"schemaKey": "iglu:com.acme/checkout/jsonschema/1-0-0", "error": {"n": 1}},
                {"schemaKey": "iglu:com.acme/cart/jsonschema/1-0-0", "field": True},
            ]
        },
        "payload": {"enriched": {"app_id": "shop", "event_id": "e-1"}},
        "payload_string": "Cannot read Thrift: the record ends early",
    },
}
EVENT: dict[str, Any] = {
    "app_id": "shop",
    "event_vendor": "com.acme",
    "event_name": "checkout",
    "event_version": "1-0-0",
    "unstruct_event_com_acme_checkout_1": {"total": 10.5},
    "contexts_com_acme_user_1": [{"plan": "pro"}, {"plan": "free"}],
}


@pytest.mark.parametrize(
    ("path", "found"),
    [
        (
            "data.failure.messages.schemaKey",
            [
                "iglu:com.acme/checkout/jsonschema/1-0-0",
                "iglu:com.acme/cart/jsonschema/1-0-0",
            ],
        ),
        # An object is no keyword; a boolean is one as JSON writes it.
        ("data.failure.messages.error", []),
        ("data.failure.messages.field", ["true"]),
        ("data.payload.enriched.app_id", ["shop"]),
        ("data.nowhere", []),
    ],
)
def test_keywords(path: str, found: list[str]) -> None:
    assert keywords(ROW, path) == found


@pytest.mark.parametrize(
    ("kind", "source", "uri", "has"),
    [
        ("good", EVENT, "iglu:com.acme/checkout/jsonschema/1-0-0", True),
        # Any version of the model: the index keeps entities by model.
        ("good", EVENT, "iglu:com.acme/checkout/jsonschema/1-0-1", True),
        ("good", EVENT, "iglu:com.acme/user/jsonschema/1-2-0", True),
        ("good", EVENT, "iglu:com.acme/user/jsonschema/2-0-0", False),
        ("bad", ROW, "iglu:com.acme/cart/jsonschema/1-0-0", True),
        ("bad", ROW, "iglu:com.acme/cart/jsonschema/1-0-1", False),
    ],
)
def test_has_schema(kind: Kind, source: dict[str, Any], uri: str, has: bool) -> None:
    assert has_schema(kind, source, uri) is has


@pytest.mark.parametrize(
    ("source", "text", "has"),
    [
        (EVENT, "shop", True),
        (EVENT, "Shop", False),  # keywords keep their case
        (EVENT, "sho", False),  # and match whole
        (EVENT, "10.5", True),
        (EVENT, "pro", True),
        (ROW, "true", True),
        (ROW, "thrift", True),  # a word of an analysed text field, any case
        (ROW, "read early", True),
        (ROW, "*", False),
        (ROW, '{"match_all": {}}', False),
    ],
)
def test_has_text(source: dict[str, Any], text: str, has: bool) -> None:
    assert has_text(source, text) is has


@pytest.mark.parametrize(
    ("kind", "source", "filters", "passes"),
    [
        ("good", EVENT, EventFilters(), True),
        ("good", EVENT, EventFilters({"app_id": "shop"}), True),
        ("good", EVENT, EventFilters({"app_id": "shop", "event_name": "page_view"}), False),
        ("bad", ROW, EventFilters({"app_id": "shop"}), True),
        ("bad", ROW, EventFilters({"app_id": "blog"}), False),
        ("bad", ROW, EventFilters({"event_id": "e-1"}, text="thrift"), True),
        (
            "good",
            EVENT,
            EventFilters(schema="iglu:com.acme/user/jsonschema/1-0-0", text="x"),
            False,
        ),
    ],
)
def test_matches(kind: Kind, source: dict[str, Any], filters: EventFilters, passes: bool) -> None:
    assert matches(kind, source, filters) is passes


@pytest.mark.parametrize(
    ("width", "start"),
    [
        (timedelta(minutes=1), datetime(2026, 12, 3, 10, 7, tzinfo=UTC)),
        (timedelta(minutes=15), datetime(2026, 12, 3, 10, 0, tzinfo=UTC)),
        (timedelta(hours=6), datetime(2026, 12, 3, 6, 0, tzinfo=UTC)),
        (timedelta(days=1), datetime(2026, 12, 3, tzinfo=UTC)),
    ],
)
def test_bars_start_at_whole_widths_from_the_epoch(width: timedelta, start: datetime) -> None:
    assert bucket_start(T, width) == start


def test_bars_cover_the_range_from_the_bar_of_its_start_to_the_bar_of_its_end() -> None:
    span = TimeRange(T, T + timedelta(minutes=2))
    assert bars(span, timedelta(minutes=1)) == [
        datetime(2026, 12, 3, 10, minute, tzinfo=UTC) for minute in (7, 8, 9)
    ]
