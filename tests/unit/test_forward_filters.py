"""A destination's filter, condition by condition and combined, on real enriched lines."""

from __future__ import annotations

import random
from typing import Any

import pytest

from libs.formats.enriched import to_tsv
from services.forward.config import FilterSettings
from services.forward.filters import FilteredEvent, compile_filter
from tests.enriched_events import contexts, event_fields

USER = "iglu:com.acme/user/jsonschema/1-0-2"
LINK_CLICK = "iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1"


def event(number: int, **changes: str) -> FilteredEvent:
    """The `number`-th event of tests.enriched_events (0 page view, 1 page ping, 2 struct, 3
    unstruct link_click, 4 transaction), app `shop`, with `changes`."""
    fields = event_fields(number, random.Random(number))
    fields.update(changes)
    return FilteredEvent(to_tsv(fields).split("\t"))


CASES: list[tuple[str, dict[str, Any], FilteredEvent, bool]] = [
    ("event name listed", {"event_name": ["page_view", "link_click"]}, event(3), True),
    ("event name not listed", {"event_name": ["page_view"]}, event(1), False),
    ("app id listed", {"app_id": ["shop"]}, event(0), True),
    ("app id not listed", {"app_id": ["blog"]}, event(0), False),
    ("event schema exact", {"event_schema": [LINK_CLICK]}, event(3), True),
    (
        "event schema with * versions",
        {"event_schema": ["iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-*-*"]},
        event(3),
        True,
    ),
    (
        "event schema of another model",
        {"event_schema": ["iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/2-*-*"]},
        event(3),
        False,
    ),
    ("entity schema in contexts", {"entity_schema": [USER]}, event(0), True),
    (
        "entity schema in derived contexts",
        {
            "entity_schema": [
                "iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-*-*"
            ]
        },
        event(0),
        True,
    ),
    (
        "entity schema absent",
        {"entity_schema": ["iglu:com.acme/cart/jsonschema/1-*-*"]},
        event(0),
        False,
    ),
    (
        "entity schema of an event without entities",
        {"entity_schema": [USER]},
        event(0, contexts="", derived_contexts=""),
        False,
    ),
    (
        "entity schema among several",
        {"entity_schema": ["iglu:com.acme/cart/jsonschema/1-0-0"]},
        event(0, contexts=contexts((USER, {}), ("iglu:com.acme/cart/jsonschema/1-0-0", {}))),
        True,
    ),
    ("regex found in the field", {"field": "page_url", "regex": "/products"}, event(7), True),
    ("regex anchored", {"field": "platform", "regex": "^(web|mob)$"}, event(0), True),
    ("regex not found", {"field": "platform", "regex": "^mob$"}, event(0), False),
    ("regex on an empty field", {"field": "user_id", "regex": "^$"}, event(0), True),
    (
        "regex on a timestamp as the TSV writes it",
        {"field": "collector_tstamp", "regex": r"^2026-11-22 23:"},
        event(0),
        True,
    ),
    (
        "all: every part passes",
        {"all": [{"app_id": ["shop"]}, {"event_name": ["page_view"]}]},
        event(0),
        True,
    ),
    (
        "all: one part fails",
        {"all": [{"app_id": ["shop"]}, {"event_name": ["page_ping"]}]},
        event(0),
        False,
    ),
    (
        "any: one part passes",
        {"any": [{"app_id": ["blog"]}, {"event_name": ["page_view"]}]},
        event(0),
        True,
    ),
    (
        "any: no part passes",
        {"any": [{"app_id": ["blog"]}, {"event_name": ["page_ping"]}]},
        event(0),
        False,
    ),
    ("not", {"not": {"event_name": ["page_ping"]}}, event(1), False),
    (
        "nested: web page views or any link click",
        {
            "any": [
                {"all": [{"field": "platform", "regex": "^web$"}, {"event_name": ["page_view"]}]},
                {"event_schema": [LINK_CLICK]},
            ]
        },
        event(3, platform="mob"),
        True,
    ),
    (
        "nested: neither branch",
        {
            "any": [
                {"all": [{"field": "platform", "regex": "^web$"}, {"event_name": ["page_view"]}]},
                {"event_schema": [LINK_CLICK]},
            ]
        },
        event(0, platform="mob"),
        False,
    ),
]


@pytest.mark.parametrize(
    ("settings", "filtered", "passes"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_filter(settings: dict[str, Any], filtered: FilteredEvent, passes: bool) -> None:
    predicate = compile_filter(FilterSettings.model_validate(settings))
    assert predicate is not None
    assert predicate(filtered) is passes


def test_no_filter_is_no_predicate() -> None:
    assert compile_filter(None) is None


def test_unreadable_contexts_hold_no_entity() -> None:
    predicate = compile_filter(FilterSettings.model_validate({"entity_schema": [USER]}))
    assert predicate is not None
    assert predicate(event(0, contexts="{not json")) is False


REFUSED: list[tuple[dict[str, Any], str]] = [
    ({"field": "page_urll", "regex": "x"}, "unknown atomic field 'page_urll'"),
    ({"field": "page_url", "regex": "(unclosed"}, "malformed regex '(unclosed'"),
    ({"field": "page_url"}, "field and regex go together"),
    ({"app_id": ["shop"], "event_name": ["page_view"]}, "exactly one of"),
    ({}, "found none"),
    ({"all": []}, "at least one condition"),
    ({"event_schema": ["com.acme/x/jsonschema/1-0-0"]}, "is not an Iglu URI"),
    ({"entity_schema": ["iglu:com.acme/x/jsonschema/1-?-0"]}, "is not an Iglu URI"),
    ({"any": [{"app_id": ["shop"]}, {"feild": "x"}]}, "feild"),
]


@pytest.mark.parametrize(("settings", "message"), REFUSED)
def test_a_filter_that_cannot_work_is_refused(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        FilterSettings.model_validate(settings)
