"""Records of the `good`, `bad` and `logs` topics turned into Elasticsearch documents.

Every document's `_id` is derived from the record itself, so a record delivered twice overwrites
its own document instead of adding a second one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from snowplow_analytics_sdk.event_transformer import (
    SnowplowEventTransformationException,
    transform,
)

from libs.pipes import Record
from services.sinks.config import SinkKind


@dataclass(frozen=True, slots=True)
class Document:
    id: str
    source: dict[str, Any]


class UnreadableRecord(ValueError):
    """The record is not what its topic should hold; `failure` says why in the shape of the
    Snowplow Analytics SDK's parsing errors."""

    def __init__(self, failure: dict[str, Any]) -> None:
        super().__init__(failure)
        self.failure = failure


def good_document(record: Record) -> Document:
    """An enriched event (131-field TSV) in the Analytics SDK's JSON shape, `_id` its event_id."""
    try:
        line = record.value.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnreadableRecord({"type": "NotTSV"}) from error
    fields = line.split("\t")
    if len(fields) != 131:
        raise UnreadableRecord({"type": "FieldNumberMismatch", "fieldCount": len(fields)})
    try:
        event = transform(line)
    except SnowplowEventTransformationException as error:
        raise UnreadableRecord(
            {"type": "RowDecodingError", "errors": error.error_messages}
        ) from error
    event["@timestamp"] = event["collector_tstamp"]
    return Document(event["event_id"], event)


def bad_document(record: Record) -> Document:
    """A bad row as it is, `_id` a hash of its bytes, `@timestamp` its failure time if any."""
    bad_row = _json_object(record.value)
    failure = bad_row.get("data", {}).get("failure")
    timestamp = failure.get("timestamp") if isinstance(failure, dict) else None
    bad_row["@timestamp"] = timestamp or _record_time(record)
    return Document(hashlib.sha256(record.value).hexdigest(), bad_row)


def log_document(record: Record) -> Document:
    """A log line as the listener wrote it, `_id` its position in the topic."""
    entry = _json_object(record.value)
    entry.setdefault("@timestamp", _record_time(record))
    return Document(f"{record.topic}-{record.partition}-{record.offset}", entry)


DOCUMENT_MAKERS = {"good": good_document, "bad": bad_document, "logs": log_document}


def to_document(kind: SinkKind, record: Record) -> Document:
    """The document for `record` of the topic read by sinks of `kind`; UnreadableRecord if none."""
    return DOCUMENT_MAKERS[kind](record)


def _json_object(value: bytes) -> dict[str, Any]:
    try:
        parsed = orjson.loads(value)
    except orjson.JSONDecodeError as error:
        raise UnreadableRecord({"type": "NotJSON", "message": str(error)}) from error
    if not isinstance(parsed, dict):
        raise UnreadableRecord({"type": "NotJSONObject"})
    return parsed


def _record_time(record: Record) -> str:
    moment = datetime.fromtimestamp(record.timestamp_ms / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
