"""`furrow replay`'s core: a bad row back into the raw CollectorPayload the enricher reads, for
each replayable bad-row type; the others refused with a reason; and which rows are selected."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import orjson
import pytest

from libs.formats import badrows
from libs.formats.collector_payload import CollectorPayload, decode, encode
from libs.formats.enriched import to_json
from libs.formats.iglu import SchemaKey
from libs.iglu_client import RepositoryError, RepositorySettings, Resolver
from services.enrich.adapters import vendor_and_version
from services.enrich.core import Enricher
from services.replay.rebuild import (
    NOT_REPLAYABLE,
    REPLAY_COLLECTOR,
    NotReplayable,
    Selection,
    rebuild,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
CHECKOUT = "iglu:com.acme/checkout/jsonschema/1-0-0"
PAYLOAD_DATA = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4"
UNSTRUCT_EVENT = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"
SCHEMAS = {
    CHECKOUT: {
        "self": {
            "vendor": "com.acme",
            "name": "checkout",
            "format": "jsonschema",
            "version": "1-0-0",
        },
        "type": "object",
        "properties": {"total": {"type": "number"}},
        "required": ["total"],
    },
    PAYLOAD_DATA: {
        "self": {
            "vendor": "com.snowplowanalytics.snowplow",
            "name": "payload_data",
            "format": "jsonschema",
            "version": "1-0-4",
        },
        "type": "array",
    },
}


class Registry:
    """An in-memory repository that can be down, like the registry during a drill."""

    settings = RepositorySettings(name="registry", url="http://registry")

    def __init__(self, *, up: bool) -> None:
        self.up = up

    def fetch(self, key: SchemaKey, *, fresh: bool = False) -> dict[str, Any] | None:
        if not self.up:
            raise RepositoryError("connection refused")
        return SCHEMAS.get(key.uri)


def enricher(*, registry_up: bool) -> Enricher:
    return Enricher(validator=Resolver([Registry(up=registry_up)], attempts=1))


def checkout(event_id: str, total: object = 12.5) -> dict[str, str]:
    envelope = {"schema": UNSTRUCT_EVENT, "data": {"schema": CHECKOUT, "data": {"total": total}}}
    return {
        "e": "ue",
        "p": "web",
        "tv": "js-3",
        "eid": event_id,
        "ue_pr": orjson.dumps(envelope).decode(),
    }


# Snowplow's rows keep a network user id that is a UUID, as collectors make them.
NUID = "c6ef3124-b53a-4b13-a233-0088f79dcbcb"
REQUEST = CollectorPayload(
    ip_address="203.0.113.9",
    timestamp_ms=1_795_000_000_123,
    collector="furrow-collector-1",
    path="/i",
    user_agent="Mozilla/5.0",
    referer_uri="https://shop.example.com/",
    hostname="collector.example.com",
    network_user_id=NUID,
    headers=("Host: collector.example.com", f"Cookie: sp={NUID}"),
)


def as_get(parameters: dict[str, str]) -> CollectorPayload:
    return replace(REQUEST, querystring=urlencode(parameters))


def as_post(*events: dict[str, str]) -> CollectorPayload:
    body = orjson.dumps({"schema": PAYLOAD_DATA, "data": list(events)})
    return replace(
        REQUEST,
        path="/com.snowplowanalytics.snowplow/tp2",
        body=body,
        content_type="application/json",
    )


def only_bad_row(payload: CollectorPayload, *, registry_up: bool) -> dict[str, Any]:
    outputs = enricher(registry_up=registry_up).enrich(encode(payload), now=NOW)
    assert outputs.good == []
    (row,) = outputs.bad
    parsed: dict[str, Any] = orjson.loads(row)
    return parsed


def good_event(payload: CollectorPayload) -> dict[str, object]:
    """The enriched event, less the enrichment time: what a replay must reproduce."""
    outputs = enricher(registry_up=True).enrich(encode(payload), now=NOW)
    assert outputs.bad == []
    (line,) = outputs.good
    return {name: value for name, value in to_json(line).items() if name != "etl_tstamp"}


@pytest.mark.parametrize(
    "request_payload",
    [
        pytest.param(as_get(checkout("e0a5a8b2-0000-4000-8000-000000000001")), id="GET"),
        pytest.param(
            as_post(checkout("e0a5a8b2-0000-4000-8000-000000000002")), id="POST tp2 batch of one"
        ),
    ],
)
def test_an_unresolved_schema_row_replays_into_the_event_it_would_have_been(
    request_payload: CollectorPayload,
) -> None:
    row = only_bad_row(request_payload, registry_up=False)
    assert badrows.type_of(row["schema"]) == "schema_violations"

    rebuilt = rebuild(row)

    assert isinstance(rebuilt, CollectorPayload)
    assert good_event(decode(encode(rebuilt))) == good_event(request_payload)


def test_an_enrichment_failure_row_keeps_event_id_time_ip_and_headers() -> None:
    parameters = checkout("e0a5a8b2-0000-4000-8000-000000000003")
    enriched = {"event_id": parameters["eid"], "v_collector": "furrow-collector-1"}
    raw = {
        "vendor": "com.snowplowanalytics.snowplow",
        "version": "tp1",
        "parameters": [{"name": k, "value": v} for k, v in parameters.items()],
        "contentType": None,
        "loaderName": "thrift",
        "encoding": "UTF-8",
        "hostname": "collector.example.com",
        "timestamp": "2026-11-18T07:46:40.123000+00:00",
        "ipAddress": "203.0.113.9",
        "useragent": "Mozilla/5.0",
        "refererUri": "https://shop.example.com/",
        "headers": ["Host: collector.example.com"],
        "userId": NUID,
    }
    row = orjson.loads(
        badrows.enrichment_failures(
            "enrich",
            {"enriched": enriched, "raw": raw},
            [{"enrichment": {}, "message": {}}],
            now=NOW,
        )
    )

    assert rebuild(row) == CollectorPayload(
        ip_address="203.0.113.9",
        timestamp_ms=1_794_988_000_123,
        collector="furrow-collector-1",
        path="/i",
        querystring=urlencode(parameters),
        headers=("Host: collector.example.com",),
        user_agent="Mozilla/5.0",
        referer_uri="https://shop.example.com/",
        hostname="collector.example.com",
        network_user_id=NUID,
    )


@pytest.mark.parametrize(
    ("build", "request_payload"),
    [
        (badrows.tracker_protocol_violations, as_get({"e": "pv"})),
        (badrows.tracker_protocol_violations, as_post({"e": "pv"}, {"p": "web"})),
        (badrows.adapter_failures, replace(REQUEST, path="/com.acme/v9", querystring="a=1")),
    ],
    ids=["tracker_protocol_violations GET", "tracker_protocol_violations POST", "adapter_failures"],
)
def test_a_request_row_replays_as_the_request_it_was(
    build: Any, request_payload: CollectorPayload
) -> None:
    vendor, version = vendor_and_version(request_payload.path)
    row = orjson.loads(build("enrich", request_payload, vendor, version, [], now=NOW))

    assert rebuild(row) == request_payload


@pytest.mark.parametrize("bad_type", sorted(NOT_REPLAYABLE))
def test_other_types_are_refused_with_their_reason(bad_type: str) -> None:
    row = {"schema": f"iglu:{badrows.VENDOR}/{bad_type}/jsonschema/1-0-0", "data": {"payload": "x"}}

    assert rebuild(row) == NotReplayable(NOT_REPLAYABLE[bad_type])


def test_the_enrichers_generic_error_replays_as_the_raw_record_it_holds() -> None:
    raw = encode(REQUEST)
    row = orjson.loads(badrows.unexpected_error("enrich", raw, KeyError("a bug"), now=NOW))

    assert rebuild(row) == REQUEST


@pytest.mark.parametrize(
    ("component", "record", "reason"),
    [
        (
            "sink-good",
            b"an\tenriched\tline",
            "only the enricher's generic errors hold a raw record",
        ),
        (
            "enrich",
            b"\x00not a collector payload",
            "the payload is not a base64-encoded raw record",
        ),
    ],
)
def test_other_generic_errors_are_refused_with_their_reason(
    component: str, record: bytes, reason: str
) -> None:
    row = orjson.loads(badrows.unexpected_error(component, record, KeyError("a bug"), now=NOW))

    assert rebuild(row) == NotReplayable(reason)


def _event_row(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "schema": badrows.SCHEMA_VIOLATIONS,
        "data": {"payload": {"enriched": {}, "raw": raw}},
    }


GOOD_RAW = {
    "parameters": [{"name": "e", "value": "pv"}],
    "timestamp": "2026-11-18T07:46:40+00:00",
    "ipAddress": "203.0.113.9",
}


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"schema": "iglu:com.acme/x/jsonschema/1-0-0"}, NotReplayable("not a bad row")),
        (
            {"schema": badrows.SCHEMA_VIOLATIONS, "data": {"payload": "text"}},
            NotReplayable("the payload is not an object"),
        ),
        (
            _event_row({**GOOD_RAW, "parameters": "e=pv"}),
            NotReplayable("payload.raw.parameters is not a list of {name, value} strings"),
        ),
        (
            _event_row({**GOOD_RAW, "timestamp": "yesterday"}),
            NotReplayable("timestamp 'yesterday' is not an ISO 8601 time with a zone"),
        ),
        (
            _event_row({k: v for k, v in GOOD_RAW.items() if k != "ipAddress"}),
            NotReplayable("ipAddress is missing"),
        ),
        (
            orjson.loads(
                badrows.tracker_protocol_violations(
                    "enrich", replace(REQUEST, body=b"\xff\xfe"), "v", "1", [], now=NOW
                )
            ),
            NotReplayable(
                "the body was not UTF-8; the bad row holds it with replacement characters"
            ),
        ),
        (
            _event_row(GOOD_RAW),
            CollectorPayload(
                ip_address="203.0.113.9",
                timestamp_ms=1_794_988_000_000,
                collector=REPLAY_COLLECTOR,
                path="/i",
                querystring="e=pv",
            ),
        ),
    ],
    ids=[
        "not a bad row",
        "payload not an object",
        "parameters not a list",
        "timestamp unreadable",
        "ip missing",
        "body not UTF-8",
        "minimal row",
    ],
)
def test_what_a_row_rebuilds_into(row: dict[str, Any], expected: object) -> None:
    assert rebuild(row) == expected


def _violation(schema_key: str, timestamp: str) -> dict[str, Any]:
    failure = {"timestamp": timestamp, "messages": [{"schemaKey": schema_key, "error": {}}]}
    return {"schema": badrows.SCHEMA_VIOLATIONS, "data": {"failure": failure, "payload": {}}}


ROW = _violation(CHECKOUT, "2026-11-23T12:00:00.000Z")


@pytest.mark.parametrize(
    ("selection", "row", "selected"),
    [
        (Selection("schema_violations"), ROW, True),
        (Selection("enrichment_failures"), ROW, False),
        (Selection("schema_violations", schema="com.acme/checkout"), ROW, True),
        (Selection("schema_violations", schema="com.acme/checkout/jsonschema/1-0-0"), ROW, True),
        (Selection("schema_violations", schema="com.acme/cart"), ROW, False),
        (Selection("schema_violations", since=NOW), ROW, True),
        (Selection("schema_violations", since=datetime(2026, 11, 24, tzinfo=UTC)), ROW, False),
        (Selection("schema_violations", since=NOW), _violation(CHECKOUT, "soon"), False),
        (Selection("schema_violations"), {"schema": 7}, False),
    ],
    ids=[
        "type",
        "other type",
        "schema vendor/name",
        "schema full path",
        "other schema",
        "since: at",
        "since: before",
        "since: unreadable time",
        "not a bad row",
    ],
)
def test_which_rows_a_selection_takes(
    selection: Selection, row: dict[str, Any], selected: bool
) -> None:
    assert selection.matches(row) is selected
