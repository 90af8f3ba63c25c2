"""From a bad row back to the raw record the enricher reads, knowing nothing of Kafka.

A bad row about one event (`schema_violations`, `enrichment_failures`) holds the event's tracker
parameters and the request's IP, user agent, headers and time; they become a GET `/i` request
again, with the same `eid`, so reprocessing keeps the event id and the sinks stay idempotent. A
bad row about a whole request (`tracker_protocol_violations`, `adapter_failures`) holds that
request field by field, and it is rebuilt as it was, its path from the adapter's vendor and
version. A `generic_error` of the enricher (a record that met a bug) holds the raw record
itself, base64-encoded: once the bug is fixed, it is enriched again as it was. The other types
are not replayable: NOT_REPLAYABLE says why.

Snowplow's schemas keep a parameter to 512 characters. A longer context or self-describing
event (`cx`, `ue_px`, ...) is taken whole from the partially enriched event of an event's row;
any other parameter that long may have been cut, and its row is not replayed.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from libs.formats import badrows
from libs.formats.collector_payload import (
    ENCODING,
    CollectorPayload,
    CollectorPayloadError,
    decode,
)
from libs.version import ARTIFACT

EVENT_TYPES = ("schema_violations", "enrichment_failures")
REQUEST_TYPES = ("tracker_protocol_violations", "adapter_failures")
RECORD_TYPES = ("generic_error",)
REPLAYABLE_TYPES = (*EVENT_TYPES, *REQUEST_TYPES, *RECORD_TYPES)
NOT_REPLAYABLE = {
    "collector_payload_format_violation": "the raw record was not a CollectorPayload; "
    "enriching it again fails the same way",
    "size_violation": "the payload holds only the beginning of what was too large",
    "loader_parsing_error": "a loader's failure: the event was enriched already",
    "loader_runtime_error": "a loader's failure: the event was enriched already",
    "loader_iglu_error": "a loader's failure: the event was enriched already",
}
# The processor of the generic errors that hold a raw record: the enricher's.
_ENRICHER = f"{ARTIFACT}-enrich"
# The collector name a rebuilt request carries when the bad row does not name one.
REPLAY_COLLECTOR = "furrow-replay"
_PIXEL_PATH = "/i"
_PIXEL_ADAPTER = ("com.snowplowanalytics.snowplow", "tp1")
# Parameters that the partially enriched event holds whole: (its column, the plain parameter).
_WHOLE_IN_ENRICHED = {
    "cx": ("contexts", "co"),
    "co": ("contexts", "co"),
    "ue_px": ("unstruct_event", "ue_pr"),
    "ue_pr": ("unstruct_event", "ue_pr"),
}


@dataclass(frozen=True)
class Selection:
    """Which bad rows to replay: one type, optionally only those naming a schema (a prefix of
    `vendor/name/format/M-R-A`, e.g. `com.acme/checkout`) or failed at or after `since`."""

    bad_type: str
    schema: str | None = None
    since: datetime | None = None

    def matches(self, row: Mapping[str, Any]) -> bool:
        if type_of(row) != self.bad_type:
            return False
        failure = _field(row, "data", "failure")
        if self.since is not None:
            failed_at = badrows.parse_time(
                failure.get("timestamp") if isinstance(failure, dict) else None
            )
            if failed_at is None or failed_at < self.since:
                return False
        if self.schema is not None:
            return any(key.startswith(f"iglu:{self.schema}") for key in _schema_keys(failure))
        return True


@dataclass(frozen=True)
class NotReplayable:
    reason: str


def type_of(row: Mapping[str, Any]) -> str | None:
    """The bad-row type (`schema_violations`, ...), or None for a JSON that is not a bad row."""
    schema = row.get("schema")
    return badrows.type_of(schema) if isinstance(schema, str) else None


def rebuild(row: Mapping[str, Any]) -> CollectorPayload | NotReplayable:
    """The raw request to enrich again, or why there is none."""
    bad_type = type_of(row)
    if bad_type is None:
        return NotReplayable("not a bad row")
    if bad_type not in REPLAYABLE_TYPES:
        return NotReplayable(NOT_REPLAYABLE.get(bad_type, f"{bad_type} is not replayable"))
    payload = _field(row, "data", "payload")
    if bad_type in RECORD_TYPES:
        return _from_record(row, payload)
    if not isinstance(payload, dict):
        return NotReplayable("the payload is not an object")
    try:
        if bad_type in EVENT_TYPES:
            return _from_event(payload)
        return _from_request(payload)
    except _Malformed as malformed:
        return NotReplayable(str(malformed))


class _Malformed(ValueError):
    pass


def _from_record(row: Mapping[str, Any], payload: object) -> CollectorPayload | NotReplayable:
    if _field(row, "data", "processor", "artifact") != _ENRICHER:
        return NotReplayable("only the enricher's generic errors hold a raw record")
    try:
        return decode(base64.b64decode(str(payload), validate=True))
    except (binascii.Error, CollectorPayloadError):
        return NotReplayable("the payload is not a base64-encoded raw record")


def _from_event(payload: Mapping[str, Any]) -> CollectorPayload:
    raw = payload.get("raw")
    if not isinstance(raw, dict):
        raise _Malformed("payload.raw is missing")
    enriched = payload.get("enriched")
    enriched = enriched if isinstance(enriched, dict) else {}
    parameters = [
        _whole(name, value, enriched)
        for name, value in _name_values(raw.get("parameters"), "payload.raw.parameters")
    ]
    collector = enriched.get("v_collector")
    return CollectorPayload(
        ip_address=_text(raw, "ipAddress", required=True) or "",
        timestamp_ms=_milliseconds(raw.get("timestamp")),
        collector=collector if isinstance(collector, str) and collector else REPLAY_COLLECTOR,
        path=_PIXEL_PATH,
        querystring=urlencode(parameters),
        headers=_headers(raw),
        user_agent=_text(raw, "useragent"),
        referer_uri=_text(raw, "refererUri"),
        hostname=_text(raw, "hostname"),
        network_user_id=_text(raw, "userId"),
        encoding=_text(raw, "encoding") or ENCODING,
    )


def _whole(name: str, value: str, enriched: Mapping[str, Any]) -> tuple[str, str]:
    if len(value) < badrows.MAX_PARAMETER_CHARS:
        return name, value
    column, plain = _WHOLE_IN_ENRICHED.get(name, ("", ""))
    whole = enriched.get(column) if column else None
    if not isinstance(whole, str):
        raise _Malformed(f"parameter {name} may have been cut to the bad row's length")
    return plain, whole


def _name_values(value: object, where: str) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(
        isinstance(p, dict) and isinstance(p.get("name"), str) and isinstance(p.get("value"), str)
        for p in value
    ):
        raise _Malformed(f"{where} is not a list of {{name, value}} strings")
    return [(p["name"], p["value"]) for p in value]


def _from_request(payload: Mapping[str, Any]) -> CollectorPayload:
    body = _text(payload, "body")
    if body is not None and "\ufffd" in body:
        raise _Malformed("the body was not UTF-8; the bad row holds it with replacement characters")
    query = _name_values(payload.get("querystring"), "payload.querystring")
    if any(len(value) >= badrows.MAX_PARAMETER_CHARS for _, value in query):
        raise _Malformed("a query-string parameter may have been cut to the bad row's length")
    return CollectorPayload(
        ip_address=_text(payload, "ipAddress", required=True) or "",
        timestamp_ms=_milliseconds(payload.get("timestamp")),
        collector=_text(payload, "collector") or REPLAY_COLLECTOR,
        path=_path(payload),
        querystring=urlencode(query) if query else None,
        body=None if body is None else body.encode(),
        headers=_headers(payload),
        content_type=_text(payload, "contentType"),
        user_agent=_text(payload, "useragent"),
        referer_uri=_text(payload, "refererUri"),
        hostname=_text(payload, "hostname"),
        network_user_id=_text(payload, "networkUserId"),
        encoding=_text(payload, "encoding") or ENCODING,
    )


def _path(payload: Mapping[str, Any]) -> str:
    vendor = _text(payload, "vendor", required=True) or ""
    version = _text(payload, "version", required=True) or ""
    if (vendor, version) == _PIXEL_ADAPTER:
        return _PIXEL_PATH
    return f"/{vendor}/{version}"


def _field(row: Mapping[str, Any], *path: str) -> Any:
    value: Any = row
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    return value


def _text(fields: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = fields.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise _Malformed(f"{name} is {'missing' if value is None else 'not a string'}")
    return value


def _headers(fields: Mapping[str, Any]) -> tuple[str, ...]:
    headers = fields.get("headers") or []
    if not isinstance(headers, list) or not all(isinstance(h, str) for h in headers):
        raise _Malformed("headers is not a list of strings")
    return tuple(headers)


def _milliseconds(value: object) -> int:
    moment = badrows.parse_time(value)
    if moment is None:
        raise _Malformed(f"timestamp {value!r} is not an ISO 8601 time with a zone")
    return round(moment.timestamp() * 1000)


def _schema_keys(failure: object) -> list[str]:
    messages = failure.get("messages") if isinstance(failure, dict) else None
    if not isinstance(messages, list):
        return []
    return [
        message["schemaKey"]
        for message in messages
        if isinstance(message, dict) and isinstance(message.get("schemaKey"), str)
    ]
