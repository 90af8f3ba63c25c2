"""Snowplow bad rows: self-describing JSON under `com.snowplowanalytics.snowplow.badrows`.

Each constructor returns the encoded row; the `payload` of a raw-payload row is the input as a
string, so the row alone is enough to inspect or replay what failed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from libs.version import ARTIFACT, VERSION

VENDOR = "com.snowplowanalytics.snowplow.badrows"
GENERIC_ERROR = f"iglu:{VENDOR}/generic_error/jsonschema/1-0-0"
LOADER_PARSING_ERROR = f"iglu:{VENDOR}/loader_parsing_error/jsonschema/2-0-0"
LOADER_RUNTIME_ERROR = f"iglu:{VENDOR}/loader_runtime_error/jsonschema/1-0-1"


def processor(component: str) -> dict[str, str]:
    """Who produced the row, e.g. `furrow-enrich` at this release."""
    return {"artifact": f"{ARTIFACT}-{component}", "version": VERSION}


def generic_error(component: str, errors: list[str], payload: str, *, now: datetime) -> bytes:
    """A failure that fits no more specific bad-row type."""
    failure = {"timestamp": _timestamp(now), "errors": errors}
    return _encode(GENERIC_ERROR, component, failure, payload)


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


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
