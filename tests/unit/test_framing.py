from datetime import UTC, datetime

import orjson
import pytest

from services.log_listener.framing import TRUNCATED_TAG, Line, LineFramer, log_entry

RECEIVED = datetime(2026, 11, 23, 10, 0, 0, 123000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("chunks", "expected"),
    [
        ([b'{"a":1}\n'], [Line(b'{"a":1}')]),
        ([b'{"a":1}\r\n'], [Line(b'{"a":1}')]),
        ([b"one\ntwo\nthree\n"], [Line(b"one"), Line(b"two"), Line(b"three")]),
        ([b'{"a', b'":1}\n'], [Line(b'{"a":1}')]),
        ([b"a\r", b"\nb\n"], [Line(b"a"), Line(b"b")]),
        ([b"\n", b"\r\n"], [Line(b""), Line(b"")]),
        ([b"no newline yet"], []),
        ([b"x" * 12 + b"\n"], [Line(b"x" * 10, truncated=True)]),
        # Found by tests/fuzz: a line of exactly the limit ending in CR LF was tagged truncated.
        ([b"x" * 10 + b"\r\n"], [Line(b"x" * 10)]),
        ([b"x" * 9, b"x\r", b"\n"], [Line(b"x" * 10)]),
        ([b"x" * 11 + b"\r\n"], [Line(b"x" * 10, truncated=True)]),
        (
            [b"x" * 6, b"y" * 6, b"z\nok\n"],
            [Line(b"x" * 6 + b"y" * 4, truncated=True), Line(b"ok")],
        ),
    ],
)
def test_lines_whatever_the_read_boundaries(chunks: list[bytes], expected: list[Line]) -> None:
    framer = LineFramer(max_line_bytes=10)
    assert [line for chunk in chunks for line in framer.feed(chunk)] == expected


@pytest.mark.parametrize(
    ("chunks", "last"),
    [([b"tail"], [Line(b"tail")]), ([b"done\n"], []), ([b"x" * 20], [Line(b"x" * 10, True)])],
)
def test_end_of_stream_yields_the_unterminated_line(chunks: list[bytes], last: list[Line]) -> None:
    framer = LineFramer(max_line_bytes=10)
    for chunk in chunks:
        framer.feed(chunk)
    assert framer.finish() == last


def test_memory_held_never_exceeds_the_limit() -> None:
    framer = LineFramer(max_line_bytes=1000)
    for _ in range(1000):
        framer.feed(b"z" * 10_000)
    (line,) = framer.feed(b"\n")
    assert len(line.content) == 1000
    assert line.truncated


def entry(line: Line, max_bytes: int = 1_000_000) -> dict[str, object] | None:
    encoded = log_entry(
        line, peer_host="10.1.2.3", peer_port=51000, received=RECEIVED, max_bytes=max_bytes
    )
    if encoded is not None:
        assert len(encoded) <= max_bytes
    return None if encoded is None else orjson.loads(encoded)


@pytest.mark.parametrize("content", [b"", b"   ", b"\t"])
def test_blank_lines_are_keep_alives(content: bytes) -> None:
    assert entry(Line(content)) is None


def test_logback_line_is_kept_with_peer_and_utc_timestamp() -> None:
    line = Line(
        b'{"@timestamp":"2026-11-23T11:00:00.500+01:00","@version":"1","message":"hi",'
        b'"logger_name":"app.Main","thread_name":"main","level":"WARN","level_value":30000,'
        b'"requestId":"r-1"}'
    )
    assert entry(line) == {
        "@timestamp": "2026-11-23T10:00:00.500Z",
        "@version": "1",
        "message": "hi",
        "logger_name": "app.Main",
        "thread_name": "main",
        "level": "WARN",
        "level_value": 30000,
        "requestId": "r-1",
        "host": "10.1.2.3",
        "port": 51000,
        "received_at": "2026-11-23T10:00:00.123Z",
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"plain text", "plain text"),
        (b"[1, 2]", "[1, 2]"),
        (b'{"broken": ', '{"broken": '),
        (b"\xff\xfe binary", "\ufffd\ufffd binary"),
    ],
)
def test_anything_else_becomes_a_message(content: bytes, message: str) -> None:
    parsed = entry(Line(content))
    assert parsed is not None
    assert parsed["message"] == message
    assert parsed["@timestamp"] == "2026-11-23T10:00:00.123Z"


@pytest.mark.parametrize("timestamp", ["yesterday", "2026-11-23T10:00:00", 12345, None])
def test_unusable_timestamps_become_the_receive_time(timestamp: object) -> None:
    parsed = entry(Line(orjson.dumps({"@timestamp": timestamp, "message": "m"})))
    assert parsed is not None
    assert parsed["@timestamp"] == "2026-11-23T10:00:00.123Z"


def test_truncated_lines_are_tagged_and_kept_as_text() -> None:
    parsed = entry(Line(b'{"message": "long', truncated=True))
    assert parsed is not None
    assert parsed["message"] == '{"message": "long'
    assert parsed["tags"] == [TRUNCATED_TAG]


@pytest.mark.parametrize(
    "content",
    [
        bytes(range(32)) * 3000,
        b'{"message": "' + b"\x01" * 50_000 + b'"}',
        "\u00e9".encode() * 30_000,
        # Found by tests/fuzz: the line's own host or port was kept whole, past the limit.
        b'{"host": "' + b"h" * 30_000 + b'"}',
        b'{"port": "' + b"9" * 30_000 + b'", "message": "m"}',
    ],
)
def test_an_entry_longer_than_allowed_is_cut_to_fit_and_tagged(content: bytes) -> None:
    parsed = entry(Line(content), max_bytes=20_000)
    assert parsed is not None
    assert parsed["tags"] == [TRUNCATED_TAG]
    assert isinstance(parsed["message"], str) and len(parsed["message"]) > 1000
    assert parsed["host"] == "10.1.2.3"
    assert parsed["@timestamp"] == "2026-11-23T10:00:00.123Z"


def test_timestamps_of_many_zones_are_normalised() -> None:
    for stamp, utc in [
        ("2026-11-23T11:00:00.5+01:00", "2026-11-23T10:00:00.500Z"),
        ("2026-11-23T10:00:00Z", "2026-11-23T10:00:00.000Z"),
        ("2026-11-23T05:00:00.123456-05:00", "2026-11-23T10:00:00.123Z"),
    ]:
        parsed = entry(Line(orjson.dumps({"@timestamp": stamp})))
        assert parsed is not None
        assert parsed["@timestamp"] == utc
