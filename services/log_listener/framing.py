"""Newline-delimited JSON log lines: framing a TCP byte stream, and one line to one log entry."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

TRUNCATED_TAG = "_furrow_line_truncated"


@dataclass(frozen=True, slots=True)
class Line:
    content: bytes
    truncated: bool = False


class LineFramer:
    """Splits a byte stream into lines ending in LF or CRLF, whatever the read boundaries.

    At most `max_line_bytes` of a line (and a CR) are ever held: the rest of a longer line is
    discarded up to its newline and the kept part is flagged `truncated`.
    """

    def __init__(self, max_line_bytes: int) -> None:
        self._max = max_line_bytes
        self._partial = bytearray()
        self._overflowed = False

    def feed(self, chunk: bytes) -> list[Line]:
        """The lines that `chunk` completes, in order."""
        lines: list[Line] = []
        start = 0
        while (end := chunk.find(b"\n", start)) != -1:
            if not self._partial and not self._overflowed and end - start <= self._max:
                # The usual case, a whole line inside one read: sliced once, never buffered.
                cut = end - 1 if end > start and chunk[end - 1] == 0x0D else end
                lines.append(Line(chunk[start:cut]))
            else:
                self._keep(chunk[start:end])
                lines.append(self._take())
            start = end + 1
        self._keep(chunk[start:])
        return lines

    def finish(self) -> list[Line]:
        """The unterminated last line at end of stream, if there is one."""
        if not self._partial and not self._overflowed:
            return []
        return [self._take()]

    def _keep(self, piece: bytes) -> None:
        # One byte over the limit is held: a line of exactly the limit may be followed by CR LF.
        room = self._max + 1 - len(self._partial)
        if len(piece) > room:
            self._overflowed = True
            piece = piece[: max(room, 0)]
        self._partial += piece

    def _take(self) -> Line:
        content = bytes(self._partial)
        if content.endswith(b"\r"):
            content = content[:-1]
        line = Line(content[: self._max], self._overflowed or len(content) > self._max)
        self._partial.clear()
        self._overflowed = False
        return line


def log_entry(
    line: Line, *, peer_host: str, peer_port: int, received: datetime, max_bytes: int
) -> bytes | None:
    """The JSON document for one line, at most `max_bytes` long, or None for a blank keep-alive
    line.

    A JSON object is kept as sent; anything else becomes `{"message": <line>}`. The peer's address
    and the receive time are added as Logstash's tcp input does, and `@timestamp` is normalised to
    UTC (the receive time when it is missing or unreadable). A document that would be longer
    than `max_bytes` (binary junk grows when escaped) is the line's text cut to fit, tagged.
    """
    if not line.content.strip():
        return None
    entry = _parse(line)
    entry.setdefault("host", peer_host)
    entry.setdefault("port", peer_port)
    received_at = _iso(received)
    entry["received_at"] = received_at
    timestamp = entry.get("@timestamp")
    entry["@timestamp"] = (
        _normalised(timestamp) if isinstance(timestamp, str) else None
    ) or received_at
    if line.truncated:
        # A cut line is never parsed, so the entry has no tags of its own to keep.
        entry["tags"] = [TRUNCATED_TAG]
    encoded = orjson.dumps(entry)
    if len(encoded) > max_bytes:
        # The line's own host and port may be as long as the line: the cut entry names the peer.
        return _cut_to_fit(line, {**entry, "host": peer_host, "port": peer_port}, max_bytes)
    # orjson hands back its whole (4 KiB or larger) output buffer; entries wait in memory until
    # Kafka has them, so they are copied to their own size, a tenth of that for a usual line.
    return bytes(memoryview(encoded))


def _parse(line: Line) -> dict[str, object]:
    if not line.truncated:
        try:
            parsed = orjson.loads(line.content)
        except orjson.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict):
            return parsed
    return {"message": line.content.decode("utf-8", errors="replace")}


def _cut_to_fit(line: Line, entry: dict[str, object], max_bytes: int) -> bytes:
    text = line.content.decode("utf-8", errors="replace")
    keep = len(text)
    while True:
        keep = keep * 3 // 4
        cut = {
            "message": text[:keep],
            **{key: entry[key] for key in ("host", "port", "received_at", "@timestamp")},
            "tags": [TRUNCATED_TAG],
        }
        encoded = orjson.dumps(cut)
        if len(encoded) <= max_bytes or not keep:
            return encoded


# Appenders stamp many lines with the same millisecond: the parse is done once per timestamp.
@functools.lru_cache(maxsize=1024)
def _normalised(value: str) -> str | None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return _iso(moment) if moment.tzinfo is not None else None


@functools.lru_cache(maxsize=64)
def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
