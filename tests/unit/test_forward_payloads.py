"""What a destination is sent for one event: the analytics-SDK JSON, cut to the fields chosen,
and Amplitude's HTTP V2 event made of it."""

from __future__ import annotations

import random
from typing import Any

import orjson
import pytest

from libs.formats import enriched
from services.forward.config import DestinationSettings
from services.forward.payloads import (
    Unforwardable,
    amplitude_event,
    amplitude_request,
    event_json,
    shaper,
)
from tests.enriched_events import event_fields

LINK_CLICK_KEY = "unstruct_event_com_snowplowanalytics_snowplow_link_click_1"
USER_KEY = "contexts_com_acme_user_1"


def line(number: int = 3, **changes: str) -> str:
    fields = event_fields(number, random.Random(number))
    fields.update(changes)
    return enriched.to_tsv(fields)


def test_every_field_is_the_good_sinks_json_without_its_time_field() -> None:
    forwarded = orjson.loads(event_json(line().encode(), None))
    indexed = orjson.loads(enriched.to_json_bytes(line(), time_field="@timestamp").json)
    del indexed["@timestamp"]
    assert forwarded == indexed


def test_fields_keep_only_the_keys_named() -> None:
    fields = frozenset({"event_id", "app_id", "geo_location", LINK_CLICK_KEY, USER_KEY, "tr_total"})
    forwarded = orjson.loads(event_json(line().encode(), fields))
    full = enriched.to_json(line())
    # tr_total: a transaction field this link click does not have.
    assert forwarded == {key: full[key] for key in fields if key in full}
    assert set(forwarded) == fields - {"tr_total"}
    assert forwarded[LINK_CLICK_KEY] == {
        "targetUrl": "https://shop.example.com/sale",
        "elementId": "banner",
    }


@pytest.mark.parametrize("fields", [None, frozenset({"event_id"})])
def test_text_that_is_not_utf8_is_unforwardable(fields: frozenset[str] | None) -> None:
    with pytest.raises(Unforwardable, match="not UTF-8"):
        event_json(line().encode()[:-1] + b"\xff", fields)


@pytest.mark.parametrize("fields", [None, frozenset({"event_id"})])
def test_an_invalid_line_is_unforwardable(fields: frozenset[str] | None) -> None:
    with pytest.raises(Unforwardable, match="txn_id"):
        event_json(line(txn_id="not a number").encode(), fields)


def event(**values: Any) -> dict[str, Any]:
    base = {
        "event_id": "e-1",
        "event_name": "link_click",
        "event": "unstruct",
        "collector_tstamp": "2026-11-22T23:00:00.250Z",
    }
    return {**base, **values}


AMPLITUDE_CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "user and device",
        event(user_id="u-42", domain_userid="d-1", network_userid="n-1"),
        {"user_id": "u-42", "device_id": "d-1"},
    ),
    ("device from the network user id", event(network_userid="n-1"), {"device_id": "n-1"}),
    ("user only", event(user_id="7"), {"user_id": "7"}),
    (
        "time from derived_tstamp",
        event(user_id="u", derived_tstamp="2026-11-22T23:00:00.100Z"),
        {"time": 1795388400100},
    ),
    ("time from collector_tstamp", event(user_id="u"), {"time": 1795388400250}),
    ("type from event_name", event(user_id="u"), {"event_type": "link_click"}),
    (
        "type from event without a name",
        event(user_id="u", event_name=None),
        {"event_type": "unstruct"},
    ),
    ("insert_id from event_id", event(user_id="u"), {"insert_id": "e-1"}),
    (
        "where the event came from",
        event(
            user_id="u",
            platform="web",
            br_lang="de-DE",
            user_ipaddress="203.0.113.9",
            geo_country="DE",
            geo_city="Berlin",
            geo_latitude=52.52,
            geo_longitude=13.4,
        ),
        {
            "platform": "web",
            "language": "de-DE",
            "ip": "203.0.113.9",
            "country": "DE",
            "city": "Berlin",
            "location_lat": 52.52,
            "location_lng": 13.4,
        },
    ),
    (
        "default properties: what the event was about",
        event(
            user_id="u",
            app_id="shop",
            page_url="https://x/",
            useragent="Mozilla",
            **{LINK_CLICK_KEY: {"a": 1}},
        ),
        {
            "event_properties": {
                "app_id": "shop",
                "page_url": "https://x/",
                LINK_CLICK_KEY: {"a": 1},
            }
        },
    ),
]


@pytest.mark.parametrize(
    ("snowplow", "expected"),
    [case[1:] for case in AMPLITUDE_CASES],
    ids=[case[0] for case in AMPLITUDE_CASES],
)
def test_amplitude_mapping(snowplow: dict[str, Any], expected: dict[str, Any]) -> None:
    snowplow = {key: value for key, value in snowplow.items() if value is not None}
    mapped = amplitude_event(snowplow, None)
    assert {key: mapped.get(key) for key in expected} == expected


def test_amplitude_properties_are_the_fields_chosen() -> None:
    mapped = amplitude_event(
        event(user_id="u", app_id="shop", page_url="x"), frozenset({"page_url"})
    )
    assert mapped["event_properties"] == {"page_url": "x"}


@pytest.mark.parametrize(
    ("snowplow", "message"),
    [
        (event(), "user_id or device_id"),
        (event(user_id="u", collector_tstamp=None), "collector_tstamp"),
    ],
)
def test_an_event_amplitude_cannot_take_is_unforwardable(
    snowplow: dict[str, Any], message: str
) -> None:
    snowplow = {key: value for key, value in snowplow.items() if value is not None}
    with pytest.raises(Unforwardable, match=message):
        amplitude_event(snowplow, None)


def test_an_amplitude_request_carries_the_key_and_the_events() -> None:
    destination = DestinationSettings(name="amp", target="amplitude", api_key_env="AMP_KEY")
    encoded = [shaper(destination)(line(number).encode()) for number in range(3)]
    body = orjson.loads(amplitude_request("secret-key", encoded))
    assert body["api_key"] == "secret-key"
    assert body["options"] == {"min_id_length": 1}
    assert [e["insert_id"] for e in body["events"]] == [
        enriched.to_json(line(number))["event_id"] for number in range(3)
    ]
    assert all(e["device_id"].startswith("d") for e in body["events"])
