"""What a record of each archived topic becomes in an archive file: one line, or a bad row
saying why it cannot be one."""

from __future__ import annotations

import orjson

from libs.formats import badrows, enriched
from libs.pipes import Record, record_time
from services.archive.config import ArchivedKind, GoodFormat
from services.sinks.documents import UnreadableRecord

COMPONENT = "archive"


def extension(kind: ArchivedKind, good_format: GoodFormat) -> str:
    """The extension of a file of `kind`'s records, before `.gz`."""
    return "tsv" if kind == "good" and good_format == "tsv" else "jsonl"


def archive_line(kind: ArchivedKind, good_format: GoodFormat, record: Record) -> bytes:
    """The line, newline included, that stands for `record` in a file of `kind`; raises
    UnreadableRecord with the bad row when the record is not what its topic should hold."""
    if kind == "good":
        return _enriched_line(record, good_format)
    return _json_line(record)


def _enriched_line(record: Record, good_format: GoodFormat) -> bytes:
    """The TSV as read once it is known to be an enriched event (a line break would split it),
    or the JSON document the good sink indexes."""
    try:
        event = enriched.to_json_bytes(record.value, time_field="@timestamp")
    except UnicodeDecodeError:
        failure: dict[str, object] = {"type": "NotTSV"}
    except enriched.EnrichedEventError as error:
        failure = error.failure
    else:
        if good_format == "json":
            return event.json + b"\n"
        return record.value + b"\n"
    text = record.value.decode("utf-8", errors="replace")
    raise UnreadableRecord(badrows.loader_parsing_error(COMPONENT, failure, text))


def _json_line(record: Record) -> bytes:
    """A bad row or a log line as read when it is one line of JSON; re-encoded on one line when
    it spans several."""
    try:
        parsed = orjson.loads(record.value)
    except orjson.JSONDecodeError as error:
        raise UnreadableRecord(_generic_error(record, f"not JSON: {error}")) from None
    if not isinstance(parsed, dict):
        raise UnreadableRecord(_generic_error(record, "not a JSON object"))
    if b"\n" in record.value or b"\r" in record.value:
        return orjson.dumps(parsed) + b"\n"
    return record.value + b"\n"


def unexpected_error_row(record: Record, error: Exception) -> bytes:
    """The bad row for a record whose archiving raised an exception no one expected."""
    return badrows.unexpected_error(COMPONENT, record.value, error, now=record_time(record))


def _generic_error(record: Record, error: str) -> bytes:
    payload = record.value.decode("utf-8", errors="replace")
    return badrows.generic_error(COMPONENT, [error], payload, now=record_time(record))
