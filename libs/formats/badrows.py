"""Snowplow bad rows: self-describing JSON under `com.snowplowanalytics.snowplow.badrows`.

Each constructor returns the encoded row; the `payload` of a raw-payload row is the input as a
string, so the row alone is enough to inspect or replay what failed.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any, Final

import orjson

from libs.formats.collector_payload import CollectorPayload
from libs.version import ARTIFACT, VERSION

VENDOR: Final = "com.snowplowanalytics.snowplow.badrows"
GENERIC_ERROR: Final = f"iglu:{VENDOR}/generic_error/jsonschema/1-0-0"
SIZE_VIOLATION: Final = f"iglu:{VENDOR}/size_violation/jsonschema/1-0-0"
CP_FORMAT_VIOLATION: Final = f"iglu:{VENDOR}/collector_payload_format_violation/jsonschema/1-0-0"
ADAPTER_FAILURES: Final = f"iglu:{VENDOR}/adapter_failures/jsonschema/1-0-0"
TRACKER_PROTOCOL_VIOLATIONS: Final = f"iglu:{VENDOR}/tracker_protocol_violations/jsonschema/1-0-1"
SCHEMA_VIOLATIONS: Final = f"iglu:{VENDOR}/schema_violations/jsonschema/2-0-1"
ENRICHMENT_FAILURES: Final = f"iglu:{VENDOR}/enrichment_failures/jsonschema/2-0-1"
LOADER_PARSING_ERROR: Final = f"iglu:{VENDOR}/loader_parsing_error/jsonschema/2-0-0"
LOADER_RUNTIME_ERROR: Final = f"iglu:{VENDOR}/loader_runtime_error/jsonschema/1-0-1"


def processor(component: str) -> dict[str, str]:
    """Who produced the row, e.g. `furrow-enrich` at this release."""
    return {"artifact": f"{ARTIFACT}-{component}", "version": VERSION}


def generic_error(component: str, errors: list[str], payload: str, *, now: datetime) -> bytes:
    """A failure that fits no more specific bad-row type."""
    failure = {"timestamp": _timestamp(now), "errors": errors}
    return _encode(GENERIC_ERROR, component, failure, payload)


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
        "maximumAllowedSizeBytes": maximum_bytes,
        "actualSizeBytes": actual_bytes,
        "expectation": expectation,
    }
    return _encode(SIZE_VIOLATION, component, failure, payload)


def collector_payload_format_violation(
    component: str, raw: bytes, error: str, *, now: datetime
) -> bytes:
    """A raw record that is not a CollectorPayload; the payload is the record, base64-encoded."""
    failure = {"timestamp": _timestamp(now), "loader": "thrift", "message": {"error": error}}
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
    """A request, or one event of it, that breaks the tracker protocol."""
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
        "vendor": vendor,
        "version": version,
        "messages": messages,
    }
    return _encode(schema, component, failure, collector_payload_fields(payload))


def schema_violations(
    component: str,
    enrichment_payload: dict[str, Any],
    messages: list[dict[str, Any]],
    *,
    now: datetime,
) -> bytes:
    """An event whose self-describing JSON breaks its schema or names one that cannot be had;
    `messages` are `{schemaKey, error}`."""
    failure = {"timestamp": _timestamp(now), "messages": messages}
    return _encode(SCHEMA_VIOLATIONS, component, failure, enrichment_payload)


def enrichment_failures(
    component: str,
    enrichment_payload: dict[str, Any],
    messages: list[dict[str, Any]],
    *,
    now: datetime,
) -> bytes:
    """An event an enrichment or a validity rule refused; `messages` are `{enrichment, message}`."""
    failure = {"timestamp": _timestamp(now), "messages": messages}
    return _encode(ENRICHMENT_FAILURES, component, failure, enrichment_payload)


def collector_payload_fields(payload: CollectorPayload) -> dict[str, Any]:
    """The request as bad rows show it: the CollectorPayload, field by field, readable."""
    return {
        "querystring": payload.querystring,
        "contentType": payload.content_type,
        "body": None if payload.body is None else payload.body.decode("utf-8", errors="replace"),
        "collector": payload.collector,
        "encoding": payload.encoding,
        "hostname": payload.hostname,
        "timestamp": _timestamp(datetime.fromtimestamp(payload.timestamp_ms / 1000, UTC)),
        "ipAddress": payload.ip_address,
        "useragent": payload.user_agent,
        "refererUri": payload.referer_uri,
        "headers": list(payload.headers),
        "networkUserId": payload.network_user_id,
        "path": payload.path,
    }


def loader_parsing_error(component: str, failure: dict[str, Any], payload: str) -> bytes:
    """A loader could not read an enriched event; `failure` is the analytics SDK's parsing error
    (`{"type": "NotTSV"}`, `FieldNumberMismatch` or `RowDecodingError`, as
    `libs.formats.enriched.EnrichedEventError.failure` gives it) and `payload` the line."""
    return _encode(LOADER_PARSING_ERROR, component, failure, payload)


def loader_runtime_error(component: str, failure: str, event: dict[str, Any]) -> bytes:
    """A loader could not store a valid enriched event (a mapping conflict, say); `failure` is
    the storage's message and `event` the event as `libs.formats.enriched.to_event` gives it."""
    return _encode(LOADER_RUNTIME_ERROR, component, failure, event)


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


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
