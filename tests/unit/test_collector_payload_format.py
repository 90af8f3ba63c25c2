"""The Thrift CollectorPayload: round trips, and the bytes checked against the public field ids
by an independent reader of the Thrift binary protocol."""

from __future__ import annotations

import struct

import pytest

from libs.formats.collector_payload import (
    SCHEMA,
    CollectorPayload,
    CollectorPayloadError,
    decode,
    encode,
)

FULL = CollectorPayload(
    ip_address="203.0.113.7",
    timestamp_ms=1_795_000_000_123,
    collector="furrow-0.1.0-kafka",
    path="/com.snowplowanalytics.snowplow/tp2",
    querystring="aid=shop&nuid=abc",
    body=b'{"schema":"x","data":[]}',
    headers=("Host: c.example.com", "Content-Type: application/json"),
    content_type="application/json",
    user_agent="Mozilla/5.0",
    referer_uri="https://shop.example.com/",
    hostname="c.example.com",
    network_user_id="c2d3a2a4-6a8f-4bd4-a7c7-0e5e0a0c3b11",
)

STRING, I64, LIST, STOP = 11, 10, 15, 0


def fields(raw: bytes) -> dict[int, tuple[int, object]]:
    """Field id -> (Thrift type, value), read straight from the binary protocol."""
    found: dict[int, tuple[int, object]] = {}
    at = 0
    while (kind := raw[at]) != STOP:
        (field_id,) = struct.unpack_from(">h", raw, at + 1)
        at += 3
        if kind == STRING:
            (length,) = struct.unpack_from(">i", raw, at)
            found[field_id] = (kind, raw[at + 4 : at + 4 + length])
            at += 4 + length
        elif kind == I64:
            found[field_id] = (kind, struct.unpack_from(">q", raw, at)[0])
            at += 8
        elif kind == LIST:
            element_type, count = raw[at], struct.unpack_from(">i", raw, at + 1)[0]
            assert element_type == STRING
            at += 5
            items = []
            for _ in range(count):
                (length,) = struct.unpack_from(">i", raw, at)
                items.append(raw[at + 4 : at + 4 + length])
                at += 4 + length
            found[field_id] = (kind, items)
        else:
            raise AssertionError(f"unexpected Thrift type {kind}")
    assert at == len(raw) - 1
    return found


def test_every_field_has_its_public_id_and_type() -> None:
    assert fields(encode(FULL)) == {
        31337: (STRING, SCHEMA.encode()),
        100: (STRING, b"203.0.113.7"),
        200: (I64, 1_795_000_000_123),
        210: (STRING, b"UTF-8"),
        220: (STRING, b"furrow-0.1.0-kafka"),
        300: (STRING, b"Mozilla/5.0"),
        310: (STRING, b"https://shop.example.com/"),
        320: (STRING, b"/com.snowplowanalytics.snowplow/tp2"),
        330: (STRING, b"aid=shop&nuid=abc"),
        340: (STRING, b'{"schema":"x","data":[]}'),
        350: (LIST, [b"Host: c.example.com", b"Content-Type: application/json"]),
        360: (STRING, b"application/json"),
        400: (STRING, b"c.example.com"),
        410: (STRING, b"c2d3a2a4-6a8f-4bd4-a7c7-0e5e0a0c3b11"),
    }


def test_absent_optional_fields_are_not_written() -> None:
    minimal = CollectorPayload(ip_address="1.2.3.4", timestamp_ms=1, collector="c", path="/i")
    assert set(fields(encode(minimal))) == {31337, 100, 200, 210, 220, 320, 350}


@pytest.mark.parametrize(
    "payload",
    [
        FULL,
        CollectorPayload(ip_address="::1", timestamp_ms=0, collector="c", path="/i"),
        CollectorPayload(
            ip_address="1.2.3.4", timestamp_ms=5, collector="c", path="/p", body=b"\xff\xfe\x00"
        ),
    ],
)
def test_round_trip(payload: CollectorPayload) -> None:
    assert decode(encode(payload)) == payload


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "not Thrift|missing"),
        (b"garbage!" * 4, "not Thrift|schema|missing"),
        (encode(FULL)[:25], "not Thrift|missing"),
        (b"\x0b\x7a\x69\x00\x00\x00\x05other\x00", "schema is 'other'"),
        (b"\x0b\x7a\x69" + struct.pack(">i", len(SCHEMA)) + SCHEMA.encode() + b"\x00", "missing"),
    ],
)
def test_what_is_not_a_collector_payload_says_why(raw: bytes, message: str) -> None:
    with pytest.raises(CollectorPayloadError, match=message):
        decode(raw)
