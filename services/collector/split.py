"""Raw records that fit the sink: a POST batch too large for one record is split by event; what
cannot fit becomes a `size_violation` bad row instead of being dropped."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from libs.formats import badrows
from libs.formats.collector_payload import CollectorPayload, encode

# A bad row keeps the start of the oversized input, a tenth of the limit: enough to see what it
# was, small enough that the row itself always fits.
PAYLOAD_SHARE = 10

GET_TOO_BIG = "oversized collector payload: GET requests cannot be split"
NOT_SPLITTABLE = "oversized collector payload: cannot split POST requests which are not json"
EVENT_TOO_BIG = "oversized collector payload: a single event is larger than a record may be"


@dataclass(frozen=True, slots=True)
class Fitted:
    records: list[bytes]
    bad_rows: list[bytes]
    events: int


def fit(payload: CollectorPayload, max_bytes: int, *, now: datetime) -> Fitted:
    """The encoded records for `payload`, each at most `max_bytes`, plus bad rows for the parts
    that cannot fit. `events` counts the events in the request (for metrics)."""
    batch = _batch(payload.body)
    events = len(batch[1]) if batch else 1
    encoded = encode(payload)
    if len(encoded) <= max_bytes:
        return Fitted([encoded], [], events)
    if payload.body is None:
        query = (payload.querystring or "").encode()
        return Fitted([], [violation(query, len(encoded), max_bytes, GET_TOO_BIG, now)], events)
    if batch is None or not batch[1]:
        # Without events there is nothing to split by, and an empty split would store nothing.
        body = payload.body
        return Fitted([], [violation(body, len(body), max_bytes, NOT_SPLITTABLE, now)], events)
    schema, items = batch
    return _split(payload, schema, items, max_bytes, now)


def _batch(body: bytes | None) -> tuple[str, list[Any]] | None:
    """The schema and events of a tracker POST body, or None if the body is not one."""
    if not body:
        return None
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(document, dict):
        return None
    schema, items = document.get("schema"), document.get("data")
    if not isinstance(schema, str) or not isinstance(items, list):
        return None
    return schema, items


def _split(
    payload: CollectorPayload, schema: str, items: list[Any], max_bytes: int, now: datetime
) -> Fitted:
    # Size of a record holding an empty batch; every event then adds its JSON and one comma.
    empty_body = orjson.dumps({"schema": schema, "data": []})
    overhead = len(encode(dataclasses.replace(payload, body=empty_body)))
    room = max_bytes - overhead
    records: list[bytes] = []
    bad_rows: list[bytes] = []
    chunk: list[bytes] = []
    chunk_size = 0

    def flush() -> None:
        if chunk:
            body = b'{"schema":%s,"data":[%s]}' % (orjson.dumps(schema), b",".join(chunk))
            records.append(encode(dataclasses.replace(payload, body=body)))
            chunk.clear()

    for item in items:
        event = orjson.dumps(item)
        if len(event) > room:
            bad_rows.append(violation(event, len(event), max_bytes, EVENT_TOO_BIG, now))
            continue
        if chunk and chunk_size + len(event) + 1 > room:
            flush()
            chunk_size = 0
        chunk.append(event)
        chunk_size += len(event) + 1
    flush()
    return Fitted(records, bad_rows, len(items))


def violation(
    oversized: bytes, actual_bytes: int, max_bytes: int, expectation: str, now: datetime
) -> bytes:
    """A size_violation row for an input of `actual_bytes` of which `oversized` is (the start of)
    the content; the row keeps only a tenth of `max_bytes` of it."""
    return badrows.size_violation(
        "collector",
        maximum_bytes=max_bytes,
        actual_bytes=actual_bytes,
        expectation=expectation,
        payload=oversized[: max_bytes // PAYLOAD_SHARE].decode("utf-8", errors="replace"),
        now=now,
    )
