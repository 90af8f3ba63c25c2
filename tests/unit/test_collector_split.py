from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from libs.formats.collector_payload import CollectorPayload, decode
from services.collector.split import (
    EVENT_TOO_BIG,
    GET_TOO_BIG,
    NOT_SPLITTABLE,
    PAYLOAD_SHARE,
    fit,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SCHEMA = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4"
LIMIT = 4000


def post(events: list[dict[str, Any]]) -> CollectorPayload:
    body = orjson.dumps({"schema": SCHEMA, "data": events})
    return CollectorPayload(
        ip_address="1.2.3.4",
        timestamp_ms=1,
        collector="c",
        path="/com.snowplowanalytics.snowplow/tp2",
        body=body,
        content_type="application/json",
    )


def event(i: int, padding: int = 100) -> dict[str, Any]:
    return {"e": "pv", "eid": f"event-{i}", "url": "https://x/" + "p" * padding}


def events_in(records: list[bytes]) -> list[Any]:
    found: list[Any] = []
    for record in records:
        body = decode(record).body
        assert body is not None
        document = orjson.loads(body)
        assert document["schema"] == SCHEMA
        found.extend(document["data"])
    return found


def violation(row: bytes) -> dict[str, Any]:
    document = orjson.loads(row)
    assert document["schema"].endswith("/size_violation/jsonschema/1-0-0")
    failure: dict[str, Any] = document["data"]["failure"]
    assert failure["maximumAllowedSizeBytes"] == LIMIT
    assert failure["timestamp"] == "2026-11-23T12:00:00.000Z"
    assert len(document["data"]["payload"]) <= LIMIT // PAYLOAD_SHARE
    return failure


def test_a_request_that_fits_is_one_record_unchanged() -> None:
    payload = post([event(i) for i in range(3)])
    fitted = fit(payload, LIMIT, now=NOW)
    assert [decode(record) for record in fitted.records] == [payload]
    assert fitted.bad_rows == []
    assert fitted.events == 3


@pytest.mark.parametrize("count", [40, 100, 333])
def test_a_large_batch_is_split_by_event_into_records_that_fit(count: int) -> None:
    events = [event(i, padding=100 + i % 200) for i in range(count)]
    fitted = fit(post(events), LIMIT, now=NOW)
    assert len(fitted.records) > 1
    assert all(len(record) <= LIMIT for record in fitted.records)
    assert events_in(fitted.records) == events
    assert fitted.bad_rows == []
    assert fitted.events == count


def test_every_split_record_keeps_the_request_metadata() -> None:
    payload = post([event(i) for i in range(100)])
    for record in fit(payload, LIMIT, now=NOW).records:
        decoded = decode(record)
        assert (decoded.ip_address, decoded.path, decoded.content_type) == (
            payload.ip_address,
            payload.path,
            payload.content_type,
        )


def test_an_event_too_big_alone_becomes_a_bad_row_and_the_rest_is_kept() -> None:
    events = [event(0), event(1, padding=LIMIT * 2), event(2)]
    fitted = fit(post(events), LIMIT, now=NOW)
    assert events_in(fitted.records) == [events[0], events[2]]
    (row,) = fitted.bad_rows
    failure = violation(row)
    assert failure["expectation"] == EVENT_TOO_BIG
    assert failure["actualSizeBytes"] == len(orjson.dumps(events[1]))


def test_a_get_too_big_becomes_a_bad_row() -> None:
    payload = CollectorPayload(
        ip_address="1.2.3.4",
        timestamp_ms=1,
        collector="c",
        path="/i",
        querystring="x=" + "y" * LIMIT,
    )
    fitted = fit(payload, LIMIT, now=NOW)
    assert fitted.records == []
    (row,) = fitted.bad_rows
    failure = violation(row)
    assert failure["expectation"] == GET_TOO_BIG
    assert failure["actualSizeBytes"] > LIMIT
    assert orjson.loads(row)["data"]["payload"].startswith("x=yyy")


@pytest.mark.parametrize(
    "body",
    [
        b"x" * LIMIT,
        b'{"schema": "s", "data": "not a list"}' + b" " * LIMIT,
        b"[" + b"1," * LIMIT + b"1]",
    ],
)
def test_a_post_too_big_that_is_not_a_tracker_batch_becomes_a_bad_row(body: bytes) -> None:
    payload = CollectorPayload(
        ip_address="1", timestamp_ms=1, collector="c", path="/a/b", body=body
    )
    fitted = fit(payload, LIMIT, now=NOW)
    assert fitted.records == []
    (row,) = fitted.bad_rows
    assert violation(row)["expectation"] == NOT_SPLITTABLE


def test_an_oversized_batch_without_events_becomes_a_bad_row() -> None:
    # Found by tests/fuzz: an empty batch too large for a record (a long schema string, or a
    # long query string) was split into nothing, answered 200 and stored nowhere.
    payload = post([])
    fitted = fit(dataclasses.replace(payload, querystring="x" * LIMIT), LIMIT, now=NOW)
    (row,) = fitted.bad_rows
    assert (fitted.records, violation(row)["expectation"]) == ([], NOT_SPLITTABLE)
