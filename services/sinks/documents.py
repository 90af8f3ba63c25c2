"""Records of the `good`, `bad` and `logs` topics turned into Elasticsearch documents, and the bad
rows for records that cannot be.

A document's `_id` and its daily index are both derived from the record alone, so a record
delivered twice overwrites its own document instead of adding a second one:

- good: `_id` the event_id, day and `@timestamp` the collector timestamp;
- bad: `_id` a hash of the row less the times of its processing, day and `@timestamp` the
  failure timestamp (else the time of the record, which a sink writing bad rows sets to the time
  of the record they came from);
- logs: `_id` the record's topic, partition and offset, day the time of the record, `@timestamp`
  as the log listener normalised it.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import orjson

from libs.formats import badrows, enriched
from libs.pipes import Record, record_time
from services.sinks.config import SinkKind


class Document:
    # A plain class: one is made per record, and compiled, it is made without the Python-level
    # __new__ of a NamedTuple (a frozen dataclass was slower still).
    def __init__(self, id: str, day: str, source: bytes, record: Record) -> None:
        self.id = id
        # UTC date as `YYYY.MM.DD`: the document belongs to the daily index `<alias>-<day>`.
        self.day = day
        # The document's JSON, encoded.
        self.source = source
        self.record = record


class UnreadableRecord(ValueError):
    """The record is not what its topic should hold; `bad_row` is the encoded bad row saying so."""

    def __init__(self, bad_row: bytes) -> None:
        super().__init__(bad_row)
        self.bad_row = bad_row


def component(kind: SinkKind) -> str:
    """The name a sink of `kind` signs its bad rows with."""
    return f"sink-{kind}"


def to_document(kind: SinkKind, record: Record) -> Document:
    """The document for `record` of the topic read by sinks of `kind`; UnreadableRecord if none."""
    if kind == "good":
        return good_document(record)
    if kind == "bad":
        return bad_document(record)
    return log_document(record)


def rejected_row(kind: SinkKind, record: Record, reason: str) -> bytes:
    """The bad row for `record`, whose document Elasticsearch refused for `reason` (a mapping
    conflict, say): `loader_runtime_error` with the event for good events, `generic_error` with
    the record as text for anything else."""
    if kind == "good":
        event = enriched.to_event(record.value.decode())
        return badrows.loader_runtime_error(component(kind), reason, event)
    return _generic_error(kind, record, f"Elasticsearch refused the document: {reason}")


def good_document(record: Record) -> Document:
    """An enriched event (131-field TSV) in the analytics-SDK shape plus `@timestamp`."""
    try:
        # The bytes as read: decoding them is the encoder's own, cheaper, check.
        event = enriched.to_json_bytes(record.value, time_field="@timestamp")
    except UnicodeDecodeError:
        raise _unreadable_event(record, {"type": "NotTSV"}) from None
    except enriched.EnrichedEventError as error:
        raise _unreadable_event(record, error.failure) from None
    event_id, collector_tstamp = event.event_id, event.collector_tstamp
    if not event_id or not collector_tstamp:
        errors = [
            {"type": "InvalidValue", "key": name, "value": "", "message": "required, but empty"}
            for name, value in (("event_id", event_id), ("collector_tstamp", collector_tstamp))
            if not value
        ]
        raise _unreadable_event(record, {"type": "RowDecodingError", "errors": errors})
    return Document(event_id, _day(collector_tstamp), event.json, record)


def bad_document(record: Record) -> Document:
    """A bad row with the parts whose JSON type differs between bad-row types renamed by type.

    `data.failure` and `data.payload` stay where they are when they hold an object (or a list of
    objects) and move to `data.failure_string` / `data.payload_string` otherwise, JSON-encoded if
    they are not a string; `data.processor` moves to `data.processor_string` unless it is an
    object of strings. `failure_type` names the bad-row type (`unknown` for other schemas).
    """
    row = _json_object(record.value, "bad", record)
    schema = row.get("schema")
    data = row.get("data")
    source: dict[str, Any] = {
        key: value for key, value in row.items() if key not in ("schema", "data")
    }
    failure_type = badrows.type_of(schema) if isinstance(schema, str) else None
    if isinstance(schema, str):
        source["schema"] = schema
    elif schema is not None:
        source["schema_string"] = _as_string(schema)
    source["failure_type"] = failure_type or "unknown"
    if isinstance(data, dict):
        source["data"] = _renamed_by_type(data)
        failure = data.get("failure")
        timestamp = failure.get("timestamp") if isinstance(failure, dict) else None
    else:
        if data is not None:
            source["data"] = {"data_string": _as_string(data)}
        timestamp = None
    failed_at = badrows.parse_time(timestamp)
    moment = failed_at.astimezone(UTC) if failed_at is not None else record_time(record)
    source["@timestamp"] = _iso(moment)
    encoded = orjson.dumps(source)
    return Document(_bad_row_id(record.value, row), moment.strftime("%Y.%m.%d"), encoded, record)


def _bad_row_id(value: bytes, row: dict[str, Any]) -> str:
    """A hash of the row without the times of its processing (`failure.timestamp`, and the
    `etl_tstamp` of the event in its payload): an enricher that reprocesses a record after a
    crash writes the same row at another time, and it must land on the same document."""
    data = row.get("data")
    failure = data.get("failure") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(failure, dict):
        return hashlib.sha256(value).hexdigest()
    timeless = {**data, "failure": {k: v for k, v in failure.items() if k != "timestamp"}}
    payload = data.get("payload")
    enriched = payload.get("enriched") if isinstance(payload, dict) else None
    if isinstance(payload, dict) and isinstance(enriched, dict):
        without_etl = {k: v for k, v in enriched.items() if k != "etl_tstamp"}
        timeless["payload"] = {**payload, "enriched": without_etl}
    identity = orjson.dumps({**row, "data": timeless}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(identity).hexdigest()


def log_document(record: Record) -> Document:
    """A log line as the listener wrote it; `@timestamp` the time of the record if it has none."""
    entry = _json_object(record.value, "logs", record)
    moment = record_time(record)
    entry.setdefault("@timestamp", _iso(moment))
    document_id = f"{record.topic}-{record.partition}-{record.offset}"
    return Document(document_id, moment.strftime("%Y.%m.%d"), orjson.dumps(entry), record)


def _renamed_by_type(data: dict[str, Any]) -> dict[str, Any]:
    renamed = dict(data)
    for key, keeps in (
        ("processor", _is_object_of_strings),
        ("failure", _is_object_or_objects),
        ("payload", _is_object_or_objects),
    ):
        if key in renamed and not keeps(renamed[key]):
            renamed[f"{key}_string"] = _as_string(renamed.pop(key))
    return renamed


def _is_object_of_strings(value: object) -> bool:
    return isinstance(value, dict) and all(isinstance(item, str) for item in value.values())


def _is_object_or_objects(value: object) -> bool:
    if isinstance(value, list):
        return bool(value) and all(isinstance(item, dict) for item in value)
    return isinstance(value, dict)


def _as_string(value: object) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def _unreadable_event(record: Record, failure: dict[str, Any]) -> UnreadableRecord:
    text = record.value.decode("utf-8", errors="replace")
    return UnreadableRecord(badrows.loader_parsing_error(component("good"), failure, text))


def _json_object(value: bytes, kind: SinkKind, record: Record) -> dict[str, Any]:
    try:
        parsed = orjson.loads(value)
    except orjson.JSONDecodeError as error:
        raise UnreadableRecord(_generic_error(kind, record, f"not JSON: {error}")) from None
    if not isinstance(parsed, dict):
        raise UnreadableRecord(_generic_error(kind, record, "not a JSON object"))
    return parsed


def unexpected_error_row(kind: SinkKind, record: Record, error: Exception) -> bytes:
    """The bad row for a record whose conversion raised an exception no one expected (a bug):
    the sink goes on instead of reading the record again after a crash, and crashing again."""
    return badrows.unexpected_error(component(kind), record.value, error, now=record_time(record))


def _generic_error(kind: SinkKind, record: Record, error: str) -> bytes:
    # The record's own time, not the clock: the row for a redelivered record is then the very
    # same bytes, which the bad index stores once.
    payload = record.value.decode("utf-8", errors="replace")
    return badrows.generic_error(component(kind), [error], payload, now=record_time(record))


def _day(timestamp: str) -> str:
    # Enriched timestamps are `YYYY-MM-DDTHH:MM:SS...Z`, already checked by the format module.
    return timestamp[:10].replace("-", ".")


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
