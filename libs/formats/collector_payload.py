"""The Thrift `CollectorPayload` 1-0-0: one HTTP request as the collector stored it.

Encoded with the Thrift binary protocol and the public field ids, so the raw topic can be read by
any Snowplow-compatible enricher and Furrow's enricher can read raw topics of other collectors.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import thriftpy2
from thriftpy2.protocol import TCyBinaryProtocolFactory
from thriftpy2.utils import serialize

SCHEMA = "iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0"
ENCODING = "UTF-8"

_thrift = thriftpy2.load(
    str(Path(__file__).with_name("collector_payload.thrift")),
    module_name="collector_payload_thrift",
)
_WRITER = TCyBinaryProtocolFactory()
# The times Python's datetime can hold (years 1 to 9999): a record stamped outside them cannot
# be enriched, nor even described in a bad row's timestamp.
_EARLIEST_MS = int(datetime(1, 1, 1, tzinfo=UTC).timestamp()) * 1000
_LATEST_MS = int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()) * 1000 + 999


class CollectorPayloadError(ValueError):
    """The bytes are not a CollectorPayload 1-0-0."""


@dataclass(frozen=True, slots=True)
class CollectorPayload:
    ip_address: str
    timestamp_ms: int
    collector: str
    path: str
    querystring: str | None = None
    body: bytes | None = None
    headers: tuple[str, ...] = ()
    content_type: str | None = None
    user_agent: str | None = None
    referer_uri: str | None = None
    hostname: str | None = None
    network_user_id: str | None = None
    encoding: str = ENCODING
    schema: str = SCHEMA


def encode(payload: CollectorPayload) -> bytes:
    """The Thrift binary encoding of `payload`."""
    return bytes(
        serialize(
            _thrift.CollectorPayload(
                schema=payload.schema,
                ipAddress=payload.ip_address,
                timestamp=payload.timestamp_ms,
                encoding=payload.encoding,
                collector=payload.collector,
                userAgent=payload.user_agent,
                refererUri=payload.referer_uri,
                path=payload.path,
                querystring=payload.querystring,
                body=payload.body,
                headers=list(payload.headers),
                contentType=payload.content_type,
                hostname=payload.hostname,
                networkUserId=payload.network_user_id,
            ),
            _WRITER,
        )
    )


def decode(raw: bytes) -> CollectorPayload:
    """The payload encoded in `raw`; CollectorPayloadError if it is not a CollectorPayload 1-0-0."""
    fields = _read_fields(raw)
    schema = _text(fields.get(_SCHEMA_ID))
    if schema != SCHEMA:
        raise CollectorPayloadError(f"schema is {schema!r}, expected {SCHEMA}")
    timestamp = fields.get(_TIMESTAMP_ID)
    if timestamp is None or _IP_ADDRESS_ID not in fields or _COLLECTOR_ID not in fields:
        raise CollectorPayloadError("a required field (ipAddress, timestamp, collector) is missing")
    if not _EARLIEST_MS <= timestamp <= _LATEST_MS:
        raise CollectorPayloadError(f"timestamp {timestamp} ms is not in years 1 to 9999")
    return CollectorPayload(
        schema=schema,
        ip_address=_text(fields[_IP_ADDRESS_ID]),
        timestamp_ms=timestamp,
        encoding=_text(fields.get(210)) or ENCODING,
        collector=_text(fields[_COLLECTOR_ID]),
        user_agent=_optional_text(fields.get(300)),
        referer_uri=_optional_text(fields.get(310)),
        path=_text(fields.get(320)),
        querystring=_optional_text(fields.get(330)),
        body=fields.get(340),
        headers=tuple(_text(header) for header in fields.get(_HEADERS_ID, ())),
        content_type=_optional_text(fields.get(360)),
        hostname=_optional_text(fields.get(400)),
        network_user_id=_optional_text(fields.get(410)),
    )


# Reading: a reader of the Thrift binary protocol made for this one struct, several times faster
# than thriftpy2's generic pure-Python one (its Cython reader returns bytes from beyond the end of
# a truncated buffer, and raw records are untrusted input). Every length and count is checked
# against the bytes left before anything is read; strings stay bytes, since a body need not be
# UTF-8 and judging it is the enricher's job.
_STOP = 0
_I64 = 10
_STRING = 11
_STRUCT = 12
_MAP = 13
_SET = 14
_LIST = 15
_FIXED_SIZES = {2: 1, 3: 1, 4: 8, 6: 2, 8: 4, _I64: 8}  # bool, byte, double, i16, i32, i64
_SCHEMA_ID = 31337
_IP_ADDRESS_ID = 100
_TIMESTAMP_ID = 200
_COLLECTOR_ID = 220
_HEADERS_ID = 350
_STRING_IDS = frozenset(
    {_SCHEMA_ID, _IP_ADDRESS_ID, 210, _COLLECTOR_ID, 300, 310, 320, 330, 340, 360, 400, 410}
)
_FIELD_HEADER = struct.Struct(">bh")
_I32 = struct.Struct(">i")
_I64_VALUE = struct.Struct(">q")
_COLLECTION_HEADER = struct.Struct(">bi")
_MAP_HEADER = struct.Struct(">bbi")
# Unknown fields may nest; deeper than this is not a CollectorPayload from any collector.
_MAX_DEPTH = 32


def _read_fields(raw: bytes) -> dict[int, Any]:
    """The CollectorPayload's known fields by id (strings as bytes, headers as a list of them);
    fields of unknown id or unexpected type are skipped."""
    fields: dict[int, Any] = {}
    size = len(raw)
    at = 0
    try:
        while True:
            kind = raw[at]
            if kind == _STOP:
                return fields
            _, field_id = _FIELD_HEADER.unpack_from(raw, at)
            at += 3
            if kind == _STRING and field_id in _STRING_IDS:
                fields[field_id], at = _string(raw, at, size)
            elif kind == _I64 and field_id == _TIMESTAMP_ID:
                (fields[field_id],) = _I64_VALUE.unpack_from(raw, at)
                at += 8
            elif kind == _LIST and field_id == _HEADERS_ID and raw[at] == _STRING:
                (_, count) = _COLLECTION_HEADER.unpack_from(raw, at)
                at += 5
                _check_room(count, 4, at, size)
                headers = []
                for _ in range(count):
                    header, at = _string(raw, at, size)
                    headers.append(header)
                fields[field_id] = headers
            else:
                at = _skip(raw, at, kind, size, 0)
    except (IndexError, struct.error) as error:
        raise CollectorPayloadError(f"not Thrift binary: truncated ({error})") from error


def _string(raw: bytes, at: int, size: int) -> tuple[bytes, int]:
    (length,) = _I32.unpack_from(raw, at)
    at += 4
    _check_room(length, 1, at, size)
    return raw[at : at + length], at + length


def _check_room(count: int, least_bytes_each: int, at: int, size: int) -> None:
    """Raises unless `count` items of at least `least_bytes_each` bytes fit from `at` on: a
    forged count must not make the reader loop or allocate for bytes that are not there."""
    if count < 0 or at + count * least_bytes_each > size:
        raise CollectorPayloadError(f"not Thrift binary: a length of {count} at byte {at} overruns")


def _skip(raw: bytes, at: int, kind: int, size: int, depth: int) -> int:
    """Where the value of type `kind` starting at `at` ends."""
    if depth > _MAX_DEPTH:
        raise CollectorPayloadError(f"not Thrift binary: nested deeper than {_MAX_DEPTH}")
    if (fixed := _FIXED_SIZES.get(kind)) is not None:
        if at + fixed > size:
            raise CollectorPayloadError("not Thrift binary: truncated")
        return at + fixed
    if kind == _STRING:
        return _string(raw, at, size)[1]
    if kind == _STRUCT:
        while (field_kind := raw[at]) != _STOP:
            at = _skip(raw, at + 3, field_kind, size, depth + 1)
        return at + 1
    if kind == _MAP:
        key_kind, value_kind, count = _MAP_HEADER.unpack_from(raw, at)
        at += 6
        _check_room(count, 2, at, size)
        for _ in range(count):
            at = _skip(raw, at, key_kind, size, depth + 1)
            at = _skip(raw, at, value_kind, size, depth + 1)
        return at
    if kind in (_SET, _LIST):
        element_kind, count = _COLLECTION_HEADER.unpack_from(raw, at)
        at += 5
        _check_room(count, 1, at, size)
        for _ in range(count):
            at = _skip(raw, at, element_kind, size, depth + 1)
        return at
    raise CollectorPayloadError(f"not Thrift binary: unknown type {kind} at byte {at}")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _optional_text(value: Any) -> str | None:
    return None if value is None else _text(value)
