"""The log listener's framing under arbitrary streams cut at arbitrary points: every line comes out
once, in order, whole or (when over the limit) cut to the limit and tagged, and every line becomes
a log entry within the size limit or is a blank keep-alive."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.log_listener.framing import TRUNCATED_TAG, Line, LineFramer, log_entry
from tests.fuzz.budget import FUZZ

pytestmark = pytest.mark.fuzz

MAX_LINE_BYTES = 64
MAX_ENTRY_BYTES = 400
RECEIVED = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

# JSON objects as appenders send them, with the fields the listener adds or reads sent too,
# and some far longer than an entry may be.
json_object_lines = st.dictionaries(
    st.sampled_from(["host", "port", "@timestamp", "message", "tags", "level", "x"]),
    st.one_of(
        st.text(max_size=20),
        st.integers(0, 2 * MAX_ENTRY_BYTES).map(lambda size: "h" * size),
        st.integers(-(2**63), 2**63 - 1),
        st.lists(st.text(max_size=5), max_size=3),
    ),
    max_size=4,
).map(orjson.dumps)

# Line contents without their terminator: JSON, text, CRs inside, invalid UTF-8, blank, and
# lines around and far over the limit. None ends in CR, which would be read as part of a CRLF.
line_contents = st.one_of(
    st.binary(max_size=80).map(lambda raw: raw.replace(b"\n", b"")),
    json_object_lines,
    st.sampled_from(
        [
            b"",
            b"   ",
            b'{"message":"hi","@timestamp":"2026-11-23T10:00:00+02:00"}',
            b'{"@timestamp":"not a time","tags":["a"]}',
            b"[1,2,3]",
            b"a\rb",
            b"\xff\xfe\xc3",
            b'{"a":' * 20,
        ]
    ),
    st.integers(MAX_LINE_BYTES - 2, MAX_LINE_BYTES + 2).map(lambda size: b"x" * size),
    st.integers(MAX_LINE_BYTES, 20 * MAX_LINE_BYTES).map(lambda size: b"\xff" * size),
).map(lambda content: content.rstrip(b"\r"))


@st.composite
def streams(draw: st.DrawFn) -> tuple[list[bytes], bool, list[bytes]]:
    """The lines, whether the last one is left unterminated, and the stream cut into reads."""
    lines = draw(st.lists(line_contents, max_size=12))
    terminators = draw(st.lists(st.sampled_from([b"\n", b"\r\n"]), min_size=len(lines)))
    unterminated = bool(lines) and draw(st.booleans()) and lines[-1] != b""
    stream = b"".join(line + end for line, end in zip(lines, terminators, strict=False))
    if unterminated:
        stream = stream[: -len(terminators[len(lines) - 1])]
    cuts = sorted(draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    reads = [stream[start:end] for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    return lines, unterminated, reads


def expected(content: bytes) -> Line:
    return Line(content[:MAX_LINE_BYTES], truncated=len(content) > MAX_LINE_BYTES)


@FUZZ
@given(stream=streams())
def test_lines_out_are_the_lines_in(stream: tuple[list[bytes], bool, list[bytes]]) -> None:
    lines, unterminated, reads = stream
    framer = LineFramer(MAX_LINE_BYTES)
    framed: list[Line] = []
    for read in reads:
        framed += framer.feed(read)
        # Memory is bounded by the limit, whatever was read (one byte more: a CR before LF).
        assert len(framer._partial) <= MAX_LINE_BYTES + 1
    framed += framer.finish()
    assert framed == [expected(content) for content in lines]
    assert unterminated or framer.finish() == []


@FUZZ
@given(content=st.one_of(json_object_lines, line_contents), truncated=st.booleans())
def test_every_line_is_an_entry_within_the_limit(content: bytes, truncated: bool) -> None:
    line = Line(content, truncated)
    encoded = log_entry(
        line, peer_host="10.0.0.1", peer_port=5000, received=RECEIVED, max_bytes=MAX_ENTRY_BYTES
    )
    if not content.strip():
        assert encoded is None
        return
    assert encoded is not None
    assert len(encoded) <= MAX_ENTRY_BYTES
    entry = orjson.loads(encoded)
    assert entry["received_at"] == "2026-11-23T10:00:00.000Z"
    assert entry["@timestamp"].endswith("Z")
    if truncated:
        assert entry["tags"] == [TRUNCATED_TAG]
