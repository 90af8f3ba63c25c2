"""Snowplow bad rows: self-describing JSON under `com.snowplowanalytics.snowplow.badrows`.

Each constructor returns the encoded row; the `payload` of a raw-payload row is the input as a
string, so the row alone is enough to inspect or replay what failed.
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import orjson

from libs.formats.collector_payload import CollectorPayload
from libs.formats.enriched import FIELDS, Kind
from libs.version import ARTIFACT, VERSION

VENDOR = "com.snowplowanalytics.snowplow.badrows"
# Snowplow's schemas of these rows, as Furrow embeds them.
BUILTIN_SCHEMAS = Path(__file__).resolve().parents[1] / "builtin_schemas"
GENERIC_ERROR = f"iglu:{VENDOR}/generic_error/jsonschema/1-0-0"
SIZE_VIOLATION = f"iglu:{VENDOR}/size_violation/jsonschema/1-0-0"
CP_FORMAT_VIOLATION = f"iglu:{VENDOR}/collector_payload_format_violation/jsonschema/1-0-0"
ADAPTER_FAILURES = f"iglu:{VENDOR}/adapter_failures/jsonschema/1-0-0"
TRACKER_PROTOCOL_VIOLATIONS = f"iglu:{VENDOR}/tracker_protocol_violations/jsonschema/1-0-1"
SCHEMA_VIOLATIONS = f"iglu:{VENDOR}/schema_violations/jsonschema/2-0-1"
ENRICHMENT_FAILURES = f"iglu:{VENDOR}/enrichment_failures/jsonschema/2-0-1"
LOADER_PARSING_ERROR = f"iglu:{VENDOR}/loader_parsing_error/jsonschema/2-0-0"
LOADER_RUNTIME_ERROR = f"iglu:{VENDOR}/loader_runtime_error/jsonschema/1-0-1"
EVENT_FORWARDING_ERROR = f"iglu:{VENDOR}/event_forwarding_error/jsonschema/1-0-0"
# Limits of Snowplow's bad-row schemas: sizes up to 1 GiB, parameters up to 512 characters.
MAX_SIZE_BYTES = 1 << 30
MAX_PARAMETER_CHARS = 512
# A partially enriched event spells one column as loaders do.
_PARTIAL_NAMES = {"refr_device_tstamp": "refr_dvce_tstamp"}
# Snowplow types the integer and boolean columns (as 0/1) of a partially enriched event, but
# not txn_id; of the decimal columns only the coordinates, the others stay strings.
_PARTIAL_INTEGERS = frozenset(
    name for name, kind in FIELDS if kind in (Kind.INTEGER, Kind.BOOLEAN) and name != "txn_id"
)
_PARTIAL_NUMBERS = frozenset({"geo_latitude", "geo_longitude"})
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def processor(component: str) -> dict[str, str]:
    """Who produced the row, e.g. `furrow-enrich` at this release."""
    return {"artifact": f"{ARTIFACT}-{component}", "version": VERSION[:32]}


def generic_error(component: str, errors: list[str], payload: str, *, now: datetime) -> bytes:
    """A failure that fits no more specific bad-row type."""
    failure = {"timestamp": _timestamp(now), "errors": errors}
    return _encode(GENERIC_ERROR, component, failure, payload)


def unexpected_error(component: str, record: bytes, error: Exception, *, now: datetime) -> bytes:
    """A record whose processing raised an exception no one expected (a bug): a generic error
    naming the exception, with the record, base64-encoded as it may be binary."""
    message = f"unexpected {type(error).__name__}: {error}"[:512]
    return generic_error(component, [message], base64.b64encode(record).decode(), now=now)


def size_violation(
    component: str,
    *,
    maximum_bytes: int,
    actual_bytes: int,
    expectation: str,
    payload: str,
    now: datetime,
) -> bytes:
    """Something too large to store; `payload` is its beginning only, so the row itself fits."""
    failure = {
        "timestamp": _timestamp(now),
        "maximumAllowedSizeBytes": min(maximum_bytes, MAX_SIZE_BYTES),
        "actualSizeBytes": min(actual_bytes, MAX_SIZE_BYTES),
        "expectation": expectation[:256],
    }
    return _encode(SIZE_VIOLATION, component, failure, payload)


def collector_payload_format_violation(
    component: str, raw: bytes, error: str, *, now: datetime
) -> bytes:
    """A raw record that is not a CollectorPayload; the payload is the record, base64-encoded."""
    failure = {"timestamp": _timestamp(now), "loader": "thrift", "message": {"error": error[:512]}}
    return _encode(CP_FORMAT_VIOLATION, component, failure, base64.b64encode(raw).decode())


def adapter_failures(
    component: str,
    payload: CollectorPayload,
    vendor: str,
    version: str,
    messages: list[dict[str, str]],
    *,
    now: datetime,
) -> bytes:
    """A request no adapter could read; `messages` are `{field, value, expectation}`."""
    return _request_failure(ADAPTER_FAILURES, component, payload, vendor, version, messages, now)


def tracker_protocol_violations(
    component: str,
    payload: CollectorPayload,
    vendor: str,
    version: str,
    messages: list[dict[str, str]],
    *,
    now: datetime,
) -> bytes:
    """A request, or one event of it, that breaks the tracker protocol; `messages` are
    `{field, value, expectation}`."""
    return _request_failure(
        TRACKER_PROTOCOL_VIOLATIONS, component, payload, vendor, version, messages, now
    )


def _request_failure(
    schema: str,
    component: str,
    payload: CollectorPayload,
    vendor: str,
    version: str,
    messages: list[dict[str, str]],
    now: datetime,
) -> bytes:
    failure = {
        "timestamp": _timestamp(now),
        "vendor": vendor[:64],
        "version": version[:16],
        "messages": [_expectation(message) for message in messages],
    }
    return _encode(schema, component, failure, collector_payload_fields(payload, vendor, version))


def _expectation(message: dict[str, str]) -> dict[str, str | None]:
    return {
        "field": message.get("field", "")[:64],
        "value": message.get("value"),
        "expectation": message.get("expectation", "")[:256],
    }


def schema_violations(
    component: str,
    enrichment_payload: dict[str, Any],
    messages: list[dict[str, Any]],
    *,
    now: datetime,
) -> bytes:
    """An event whose self-describing JSON breaks its schema, names one that cannot be had, or is
    not self-describing; `messages` are `{schemaKey, error}` (an Iglu client error) or
    `{json, error}` (the JSON and why it is not self-describing)."""
    failure = {"timestamp": _timestamp(now), "messages": messages}
    return _encode(SCHEMA_VIOLATIONS, component, failure, enrichment_payload)


def enrichment_failures(
    component: str,
    enrichment_payload: dict[str, Any],
    messages: list[dict[str, Any]],
    *,
    now: datetime,
) -> bytes:
    """An event an enrichment or a validity rule refused; `messages` are `{enrichment, message}`,
    `enrichment` being `{schemaKey, identifier}` or null for a validity rule."""
    failure = {"timestamp": _timestamp(now), "messages": messages}
    return _encode(ENRICHMENT_FAILURES, component, failure, enrichment_payload)


def collector_payload_fields(
    payload: CollectorPayload, vendor: str, version: str
) -> dict[str, Any]:
    """The request as bad rows show it: the CollectorPayload, field by field, readable, each
    within the length Snowplow's bad-row schemas allow."""
    return {
        "vendor": vendor[:64],
        "version": version[:16],
        "querystring": name_values(parse_qsl(payload.querystring or "", keep_blank_values=True)),
        "contentType": _clip(payload.content_type, 256),
        "body": None if payload.body is None else payload.body.decode("utf-8", errors="replace"),
        "collector": payload.collector[:32],
        "encoding": payload.encoding[:32],
        **_request_context(payload),
        "networkUserId": _uuid_or_none(payload.network_user_id),
    }


def raw_event_fields(
    payload: CollectorPayload, vendor: str, version: str, parameters: dict[str, str]
) -> dict[str, Any]:
    """One event as the adapter read it, as the `raw` of an event's bad row."""
    return {
        "vendor": vendor[:64],
        "version": version[:16],
        "parameters": name_values(parameters.items()),
        "contentType": _clip(payload.content_type, 256),
        "loaderName": "thrift",
        "encoding": payload.encoding[:32],
        **_request_context(payload),
        "userId": _uuid_or_none(payload.network_user_id),
    }


def _request_context(payload: CollectorPayload) -> dict[str, Any]:
    return {
        "hostname": _clip(payload.hostname, 8192),
        "timestamp": _timestamp(datetime.fromtimestamp(payload.timestamp_ms / 1000, UTC)),
        "ipAddress": _clip(payload.ip_address, 128),
        "useragent": _clip(payload.user_agent, 4096),
        "refererUri": _clip(payload.referer_uri, 8192),
        "headers": [header[:8192] for header in payload.headers],
    }


def name_values(pairs: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    """Parameters as `{name, value}`, each cut to the schemas' MAX_PARAMETER_CHARS: a longer
    value (a base64 context, say) is in the row elsewhere or cannot be had from it."""
    return [
        {"name": name[:MAX_PARAMETER_CHARS], "value": value[:MAX_PARAMETER_CHARS]}
        for name, value in pairs
    ]


def partially_enriched(event: dict[str, str]) -> dict[str, Any]:
    """The event as far as enrichment got, as Snowplow's enrichment bad rows type it: every
    column a string but a few integers and the coordinates; a value that is not of its column's
    type is left out (the tracker's parameters are in the row's `raw`)."""
    partial: dict[str, Any] = {}
    for name, value in event.items():
        column = _PARTIAL_NAMES.get(name, name)
        if column in _PARTIAL_INTEGERS:
            try:
                partial[column] = int(value)
            except ValueError:
                continue
        elif column in _PARTIAL_NUMBERS:
            try:
                partial[column] = float(value)
            except ValueError:
                continue
        else:
            partial[column] = value
    return partial


def loader_parsing_error(component: str, failure: dict[str, Any], payload: str) -> bytes:
    """A loader could not read an enriched event; `failure` is the analytics SDK's parsing error
    (`{"type": "NotTSV"}`, `FieldNumberMismatch` or `RowDecodingError`, as
    `libs.formats.enriched.EnrichedEventError.failure` gives it) and `payload` the line."""
    return _encode(LOADER_PARSING_ERROR, component, failure, payload)


def loader_runtime_error(component: str, failure: str, event: dict[str, Any]) -> bytes:
    """A loader could not store a valid enriched event (a mapping conflict, say); `failure` is
    the storage's message and `event` the event as `libs.formats.enriched.to_event` gives it,
    each text cut to the column's length in Snowplow's schema (a loader's row is not replayed)."""
    lengths = _loaded_lengths()
    fitted = {
        name: value[: lengths[name]] if isinstance(value, str) and name in lengths else value
        for name, value in event.items()
    }
    return _encode(LOADER_RUNTIME_ERROR, component, failure, fitted)


def event_forwarding_error(
    component: str,
    line: str,
    *,
    error_type: str,
    message: str,
    code: str | None,
    latest_state: str | None,
    now: datetime,
) -> bytes:
    """An enriched event that could not be made into what a destination takes, or that the
    destination refused or never took; `line` is the event as read, `latest_state` what was
    sent (None if nothing was), `code` the destination's answer (an HTTP status, say)."""
    failure = {
        "timestamp": _timestamp(now),
        "errorType": error_type,
        "errorMessage": message,
        "errorCode": code,
        "latestState": latest_state,
    }
    return _encode(EVENT_FORWARDING_ERROR, component, failure, line)


@functools.cache
def _loaded_lengths() -> dict[str, int]:
    # The lengths live once, in the built-in schema of the row.
    path = BUILTIN_SCHEMAS / VENDOR / "loader_runtime_error" / "jsonschema" / "1-0-1"
    columns = orjson.loads(path.read_bytes())["properties"]["payload"]["properties"]
    return {name: column["maxLength"] for name, column in columns.items() if "maxLength" in column}


def type_of(schema: str) -> str | None:
    """The bad-row type (`schema_violations`, ...) named by a bad row's schema URI, or None when
    the URI is not one of Snowplow's bad-row schemas."""
    prefix = f"iglu:{VENDOR}/"
    if not schema.startswith(prefix):
        return None
    name, _, _ = schema.removeprefix(prefix).partition("/")
    return name or None


def _encode(schema: str, component: str, failure: object, payload: object) -> bytes:
    data = {"processor": processor(component), "failure": failure, "payload": payload}
    return orjson.dumps({"schema": schema, "data": data})


def parse_time(value: object) -> datetime | None:
    """A time written in a bad row (ISO 8601 with a zone, as `failure.timestamp` is); None for
    anything else."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _clip(value: str | None, length: int) -> str | None:
    return None if value is None else value[:length]


def _uuid_or_none(value: str | None) -> str | None:
    # The schemas want a UUID here; any other network user id is in the row's headers.
    return value if value is not None and _UUID.fullmatch(value) else None


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
