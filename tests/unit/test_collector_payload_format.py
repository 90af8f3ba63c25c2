"""The Thrift CollectorPayload: round trips, and the bytes checked against the public field ids
by an independent reader of the Thrift binary protocol."""

from __future__ import annotations

import dataclasses
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
        # Found by tests/fuzz: the enricher raised on these (a crash loop on one raw record).
        (encode(dataclasses.replace(FULL, timestamp_ms=-(2**63))), "not in years 1 to 9999"),
        (encode(dataclasses.replace(FULL, timestamp_ms=253_402_300_800_000)), "not in years"),
    ],
)
def test_what_is_not_a_collector_payload_says_why(raw: bytes, message: str) -> None:
    with pytest.raises(CollectorPayloadError, match=message):
        decode(raw)


def field(kind: int, field_id: int, value: bytes) -> bytes:
    return struct.pack(">bh", kind, field_id) + value


def string(text: bytes) -> bytes:
    return struct.pack(">i", len(text)) + text


# Values of every Thrift type, as a newer collector could add them under ids we do not know.
UNKNOWN_VALUES = {
    "bool": (2, b"\x01"),
    "byte": (3, b"\x7f"),
    "double": (4, struct.pack(">d", 1.5)),
    "i16": (6, struct.pack(">h", -2)),
    "i32": (8, struct.pack(">i", 7)),
    "i64": (10, struct.pack(">q", 9)),
    "string": (11, string(b"new")),
    "struct": (12, field(11, 1, string(b"inner")) + field(8, 2, struct.pack(">i", 1)) + b"\x00"),
    "map": (
        13,
        struct.pack(">bbi", 11, 8, 2) + string(b"a") + b"\0\0\0\1" + string(b"b") + b"\0\0\0\2",
    ),
    "set": (14, struct.pack(">bi", 6, 2) + b"\x00\x01\x00\x02"),
    "list of lists": (15, struct.pack(">bi", 15, 1) + struct.pack(">bi", 11, 1) + string(b"x")),
}


@pytest.mark.parametrize("kind_and_value", UNKNOWN_VALUES.values(), ids=UNKNOWN_VALUES.keys())
def test_fields_of_unknown_id_or_type_are_skipped(kind_and_value: tuple[int, bytes]) -> None:
    kind, value = kind_and_value
    raw = encode(FULL)
    # Under an id of its own, and under a known id with a type it does not have (the timestamp is
    # an i64, so a second `timestamp` of another type is skipped too).
    unknown = field(kind, 999, value) + (field(kind, 200, value) if kind != 10 else b"")
    assert decode(unknown + raw) == FULL


def test_every_truncation_of_a_payload_is_refused() -> None:
    raw = encode(FULL)
    for end in range(len(raw)):
        with pytest.raises(CollectorPayloadError):
            decode(raw[:end])


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (field(11, 100, struct.pack(">i", 2**31 - 1)) + b"abc", "overruns"),
        (field(11, 100, struct.pack(">i", -1)), "overruns"),
        (field(15, 350, struct.pack(">bi", 11, 10**9)), "overruns"),
        (field(13, 7, struct.pack(">bbi", 2, 2, 10**9)), "overruns"),
        (field(15, 7, struct.pack(">bi", 12, 10**6)) + b"\x00" * 100, "overruns"),
        (field(12, 7, b"\x0c\x00\x01" * 40), "deeper"),
        (field(1, 7, b""), "unknown type 1"),
    ],
    ids=["string", "negative", "headers", "map", "list", "depth", "type"],
)
def test_forged_lengths_and_nesting_are_refused_before_reading(raw: bytes, message: str) -> None:
    with pytest.raises(CollectorPayloadError, match=message):
        decode(raw + encode(FULL))
