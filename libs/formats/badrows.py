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
SIZE_VIOLATION = f"iglu:{VENDOR}/size_violation/jsonschema/1-0-0"
LOADER_PARSING_ERROR = f"iglu:{VENDOR}/loader_parsing_error/jsonschema/2-0-0"


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


def loader_parsing_error(component: str, failure: dict[str, Any], payload: str) -> bytes:
    """A loader could not read a record of its input topic; `failure` names the parsing error
    as the Snowplow Analytics SDK does (`{"type": "NotTSV"}`, ...)."""
    return _encode(LOADER_PARSING_ERROR, component, failure, payload)


def _encode(schema: str, component: str, failure: dict[str, Any], payload: str) -> bytes:
    data = {"processor": processor(component), "failure": failure, "payload": payload}
    return orjson.dumps({"schema": schema, "data": data})


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
