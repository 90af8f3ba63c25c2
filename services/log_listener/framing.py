"""Newline-delimited JSON log lines: framing a TCP byte stream, and one line to one log entry."""

from __future__ import annotations

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

    At most `max_line_bytes` of a line are ever held: the rest of a longer line is discarded up to
    its newline and the kept part is flagged `truncated`.
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
        room = self._max - len(self._partial)
        if len(piece) > room:
            self._overflowed = True
            piece = piece[: max(room, 0)]
        self._partial += piece

    def _take(self) -> Line:
        content = bytes(self._partial)
        if content.endswith(b"\r"):
            content = content[:-1]
        line = Line(content, self._overflowed)
        self._partial.clear()
        self._overflowed = False
        return line


def log_entry(line: Line, *, peer_host: str, peer_port: int, received: datetime) -> bytes | None:
    """The JSON document for one line, or None for a blank keep-alive line.

    A JSON object is kept as sent; anything else becomes `{"message": <line>}`. The peer's address
    and the receive time are added as Logstash's tcp input does, and `@timestamp` is normalised to
    UTC (the receive time when it is missing or unreadable).
    """
    if not line.content.strip():
        return None
    entry = _parse(line)
    entry.setdefault("host", peer_host)
    entry.setdefault("port", peer_port)
    entry["received_at"] = _iso(received)
    entry["@timestamp"] = _normalise_timestamp(entry.get("@timestamp"), received)
    if line.truncated:
        # A cut line is never parsed, so the entry has no tags of its own to keep.
        entry["tags"] = [TRUNCATED_TAG]
    return orjson.dumps(entry)


def _parse(line: Line) -> dict[str, object]:
    if not line.truncated:
        try:
            parsed = orjson.loads(line.content)
        except orjson.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict):
            return parsed
    return {"message": line.content.decode("utf-8", errors="replace")}


def _normalise_timestamp(value: object, received: datetime) -> str:
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if moment.tzinfo is not None:
                return _iso(moment)
    return _iso(received)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
