"""The whole-pipeline benchmark's tracker traffic: requests of the mix sent at a target rate of
events over many keep-alive connections, marker events sent every 100 ms, and a poller that
notes when each marker became searchable in Elasticsearch.

The rate is open-loop: requests are scheduled at the target rate whatever the answers' speed, and
queue for a free connection; if the collector cannot keep up, the queue fills, scheduling waits
for it and the rate achieved (measured from the answers) falls below the target. Sending stops
on time either way.

The requests go out through a lean HTTP/1.1 client of its own: each connection carries one
request at a time, whose bytes were encoded before the load began, and reads back only the
answer's status and framing. aiohttp's client took about six times its CPU per request (some
300 us against 50 on this machine, under uvloop), CPU taken from the pipeline being measured;
the poller, a few requests a second, still uses aiohttp.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple, cast
from urllib.parse import urlsplit

import aiohttp
import orjson

from bench.pipeline_mix import TrackerMix, TrackerRequest

MARKER_INTERVAL_S = 0.1
MARKER_CONNECTIONS = 8
POLL_INTERVAL_S = 0.05
EXCHANGE_TIMEOUT_S = 30
# Answers that never have a body, whatever their headers say.
BODILESS_STATUSES = frozenset({b"204", b"304"})
HEX_DIGITS = b"0123456789abcdefABCDEF"


@dataclass
class Answers:
    """What the collector answered, in total and per second since the load began."""

    requests: int = 0
    accepted_requests: int = 0
    accepted_events: int = 0
    accepted_invalid: int = 0
    refused_events: int = 0  # in requests answered other than 200, or not answered at all
    statuses: Counter[str] = field(default_factory=Counter)
    # Second since the load began -> [requests, events] answered 200 in it.
    per_second: dict[int, list[int]] = field(default_factory=dict)

    def note(self, request: TrackerRequest, status: str, at_s: float) -> None:
        self.requests += 1
        self.statuses[status] += 1
        if status != "200":
            self.refused_events += request.events
            return
        self.accepted_requests += 1
        self.accepted_events += request.events
        self.accepted_invalid += request.invalid_events
        counts = self.per_second.setdefault(int(at_s), [0, 0])
        counts[0] += 1
        counts[1] += request.events


@dataclass
class Markers:
    """Marker events by id: when each was sent, and when it was first found searchable."""

    sent_at: dict[str, float] = field(default_factory=dict)
    found_at: dict[str, float] = field(default_factory=dict)

    @property
    def pending(self) -> list[str]:
        return [marker for marker in self.sent_at if marker not in self.found_at]

    def latencies(self) -> list[tuple[float, float]]:
        """(searchable at, seconds from send to searchable) for every marker found."""
        return [(found, found - self.sent_at[marker]) for marker, found in self.found_at.items()]


@dataclass
class TrackerLoad:
    collector_url: str
    good_search_url: str  # the good alias's `_search`
    mix: TrackerMix
    events_per_s: float
    connections: int
    answers: Answers = field(default_factory=Answers)
    markers: Markers = field(default_factory=Markers)
    # (seconds from the start, request, its bytes on the wire): made by prepare(), sent by send().
    planned: list[tuple[float, TrackerRequest, bytes]] = field(default_factory=list)

    @functools.cached_property
    def _host(self) -> str:
        """The collector's `Host` header."""
        return urlsplit(self.collector_url).netloc

    def prepare(self, seconds: float) -> None:
        """Make and encode the requests of `seconds` of load in advance, their events stamped
        with the time they are planned for counted from now: made while sending, they took a
        third of the load generator's CPU from the machine being measured."""
        planned, due, now_ms = [], 0.0, _now_ms()
        while due < seconds:
            request = self.mix.request(now_ms + int(due * 1000))
            planned.append((due, request, encode_request(request, self._host)))
            due += request.events / self.events_per_s
        self.planned = planned

    async def send(self, started_at: float, seconds: float) -> None:
        """Send the prepared requests and the markers from `started_at` (the event loop's clock)
        for `seconds`, and return once every request has been answered."""
        queue: asyncio.Queue[tuple[TrackerRequest, bytes] | None] = asyncio.Queue(
            self.connections * 2
        )
        address = urlsplit(self.collector_url)
        assert address.hostname, f"no host in {self.collector_url}"
        connections = [
            CollectorConnection(address.hostname, address.port or 80)
            for _ in range(self.connections + MARKER_CONNECTIONS)
        ]
        # Markers, sent on time even while an earlier one waits for its answer, take turns on
        # connections of their own.
        marker_connections: asyncio.Queue[CollectorConnection] = asyncio.Queue()
        for connection in connections[self.connections :]:
            marker_connections.put_nowait(connection)
        try:
            workers = [
                asyncio.create_task(self._work(connection, queue, started_at))
                for connection in connections[: self.connections]
            ]
            markers = asyncio.create_task(
                self._send_markers(marker_connections, started_at, seconds)
            )
            await self._schedule(queue, started_at, seconds)
            for _ in workers:
                await queue.put(None)
            await asyncio.gather(*workers, markers)
        finally:
            for connection in connections:
                connection.close()

    async def _schedule(
        self,
        queue: asyncio.Queue[tuple[TrackerRequest, bytes] | None],
        started_at: float,
        seconds: float,
    ) -> None:
        loop = asyncio.get_running_loop()
        ends_at = started_at + seconds
        # A collector that falls behind fills the queue and holds scheduling back; the load
        # still ends on time, having sent less than offered.
        for due, request, request_bytes in self.planned:
            if loop.time() >= ends_at:
                break
            if (wait := started_at + due - loop.time()) > 0:
                await asyncio.sleep(wait)
            await queue.put((request, request_bytes))

    async def _work(
        self,
        connection: CollectorConnection,
        queue: asyncio.Queue[tuple[TrackerRequest, bytes] | None],
        started_at: float,
    ) -> None:
        loop = asyncio.get_running_loop()
        while (item := await queue.get()) is not None:
            request, request_bytes = item
            status = await connection.exchange(request_bytes)
            self.answers.note(request, status, loop.time() - started_at)

    async def _send_markers(
        self,
        connections: asyncio.Queue[CollectorConnection],
        started_at: float,
        seconds: float,
    ) -> None:
        """One marker every 100 ms, each on its own: a slow answer never delays the next."""
        loop = asyncio.get_running_loop()
        exchanges = []
        for number in range(round(seconds / MARKER_INTERVAL_S)):
            await asyncio.sleep(max(0.0, started_at + number * MARKER_INTERVAL_S - loop.time()))
            exchanges.append(asyncio.create_task(self._send_marker(connections, started_at)))
        await asyncio.gather(*exchanges)

    async def _send_marker(
        self, connections: asyncio.Queue[CollectorConnection], started_at: float
    ) -> None:
        loop = asyncio.get_running_loop()
        marker = self.mix.marker(_now_ms())
        assert marker.marker_id is not None
        marker_bytes = encode_request(marker, self._host)
        sent_at = loop.time()
        connection = await connections.get()
        status = await connection.exchange(marker_bytes)
        connections.put_nowait(connection)
        self.answers.note(marker, status, loop.time() - started_at)
        if status == "200":
            self.markers.sent_at[marker.marker_id] = sent_at - started_at

    async def poll(self, started_at: float, stop: asyncio.Event) -> None:
        """Search the good alias for pending markers every 50 ms until `stop`. A marker's time
        is when the search that found it was sent: at most 50 ms late, never early."""
        loop = asyncio.get_running_loop()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            while not stop.is_set():
                pending = self.markers.pending
                searched_at = loop.time() - started_at
                if pending:
                    query = {"query": {"ids": {"values": pending}}, "size": len(pending)}
                    async with session.post(
                        self.good_search_url,
                        params={"filter_path": "hits.hits._id", "ignore_unavailable": "true"},
                        data=orjson.dumps({**query, "_source": False}),
                        headers={"Content-Type": "application/json"},
                    ) as answer:
                        found = (await answer.json()).get("hits", {}).get("hits", [])
                    for hit in found:
                        self.markers.found_at.setdefault(hit["_id"], searched_at)
                await asyncio.sleep(POLL_INTERVAL_S)


class MalformedResponseError(ValueError):
    """The collector's answer is not HTTP/1.x as this client reads it."""


class ResponseHead(NamedTuple):
    """What an answer's head says about it and about its connection."""

    status: str  # e.g. "200"
    chunked: bool
    # The body's length; None when chunked, or when the body ends with the connection.
    content_length: int | None
    closes: bool  # the server closes the connection after this answer


# A browser's, as trackers send it: the enricher parses it (ua_parser_config) for every event.
_USER_AGENT = (
    "User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36\r\n"
)


def encode_request(request: TrackerRequest, host: str) -> bytes:
    """The request as it goes on the wire: its line, `Host` and a browser's `User-Agent`, and
    with a body its type, its length and the body itself."""
    head = f"{request.method} {request.target} HTTP/1.1\r\nHost: {host}\r\n{_USER_AGENT}"
    if request.body is None:
        return f"{head}\r\n".encode("ascii")
    length = len(request.body)
    head += f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    return head.encode("ascii") + request.body


def parse_head(head: bytes) -> ResponseHead:
    """Read the status line and headers of an answer (`head` without its closing blank line)."""
    status_line, *header_lines = head.lower().split(b"\r\n")
    version, _, reason = status_line.partition(b" ")
    status = reason[:3]
    if version not in (b"http/1.1", b"http/1.0") or not (len(status) == 3 and status.isdigit()):
        raise MalformedResponseError(f"not an HTTP/1.x status line: {status_line!r}")
    headers = {}
    for line in header_lines:
        name, colon, value = line.partition(b":")
        if not colon:
            raise MalformedResponseError(f"not a header: {line!r}")
        headers[name.strip()] = value.strip()
    chunked = headers.get(b"transfer-encoding", b"").endswith(b"chunked")
    content_length = _content_length(status, chunked, headers.get(b"content-length"))
    connection = {token.strip() for token in headers.get(b"connection", b"").split(b",")}
    closes = (
        b"close" in connection
        # HTTP/1.0 keeps a connection open only when asked to.
        or (version == b"http/1.0" and b"keep-alive" not in connection)
        # Without a declared length the body runs until the server closes the connection.
        or (content_length is None and not chunked)
    )
    return ResponseHead(status.decode(), chunked, content_length, closes)


def _content_length(status: bytes, chunked: bool, declared: bytes | None) -> int | None:
    if status in BODILESS_STATUSES:
        return 0
    if chunked or declared is None:
        return None
    if not declared.isdigit():
        raise MalformedResponseError(f"not a Content-Length: {declared!r}")
    return int(declared)


def chunked_body_end(received: bytes | bytearray, start: int) -> int | None:
    """Where the chunked body beginning at `start` ends (after its last chunk and trailers), or
    None while part of it has not arrived yet."""
    position = start
    while (line_end := received.find(b"\r\n", position)) >= 0:
        size_field = bytes(received[position:line_end]).partition(b";")[0].strip()
        if not size_field or size_field.strip(HEX_DIGITS):
            raise MalformedResponseError(f"not a chunk size: {size_field!r}")
        size = int(size_field, 16)
        if size == 0:
            # Then trailers, if any, each on its line, and a blank line.
            trailers_end = received.find(b"\r\n\r\n", line_end)
            return None if trailers_end < 0 else trailers_end + 4
        position = line_end + 2 + size + 2
        if position > len(received):
            return None
        if received[position - 2 : position] != b"\r\n":
            raise MalformedResponseError("a chunk longer than its size")
    return None


def response_end(received: bytes | bytearray, *, closed: bool) -> tuple[ResponseHead, int] | None:
    """The head of the answer at the start of `received` and where that answer ends, or None
    while part of it has not arrived yet. `closed`: the server closed the connection, which ends
    a body of undeclared length."""
    head_end = received.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    head = parse_head(bytes(received[:head_end]))
    body_start = head_end + 4
    if head.chunked:
        end = chunked_body_end(received, body_start)
    elif head.content_length is not None:
        end = body_start + head.content_length
    else:
        end = len(received) if closed else None
    return None if end is None or end > len(received) else (head, end)


class _ConnectionProtocol(asyncio.Protocol):
    """One connection's requests and answers, one request at a time."""

    def __init__(self) -> None:
        self._received = bytearray()
        self.closed = False
        self._transport: asyncio.WriteTransport | None = None
        self._answer: asyncio.Future[ResponseHead] | None = None

    async def answer(self, request_bytes: bytes, deadline: float) -> ResponseHead:
        """Send the request and wait for its answer, or fail with TimeoutError at `deadline`
        (the event loop's clock)."""
        assert self._transport is not None, "sent before the connection was made"
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[ResponseHead] = loop.create_future()
        self._answer = answer
        # A bare timer: asyncio.timeout() around each exchange cost a third of the client's CPU.
        timer = loop.call_at(deadline, _time_out, answer)
        self._transport.write(request_bytes)
        try:
            return await answer
        finally:
            timer.cancel()

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.WriteTransport, transport)

    def data_received(self, data: bytes) -> None:
        self._received += data
        self._answer_when_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._answer_when_complete(exc)

    def _answer_when_complete(self, lost_by: Exception | None = None) -> None:
        if self._answer is None or self._answer.done():
            return
        try:
            answered = response_end(self._received, closed=self.closed)
        except MalformedResponseError as error:
            self._answer.set_exception(error)
            return
        if answered is not None:
            head, end = answered
            del self._received[:end]
            self._answer.set_result(head)
        elif self.closed:
            partial = bytes(self._received)
            self._answer.set_exception(lost_by or asyncio.IncompleteReadError(partial, None))


def _time_out(answer: asyncio.Future[ResponseHead]) -> None:
    if not answer.done():
        answer.set_exception(TimeoutError())


class CollectorConnection:
    """One keep-alive HTTP/1.1 connection to the collector, opened when first needed and again
    after the server closed it or an exchange failed."""

    def __init__(self, host: str, port: int, timeout_s: float = EXCHANGE_TIMEOUT_S) -> None:
        self._host = host
        self._port = port
        self._timeout_s = timeout_s
        self._protocol: _ConnectionProtocol | None = None

    async def exchange(self, request_bytes: bytes) -> str:
        """Send one encoded request and return the answer's status code, or the name of the
        error that stopped it, TimeoutError after `timeout_s` (connecting included)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout_s
        try:
            if self._protocol is None or self._protocol.closed:
                async with asyncio.timeout_at(deadline):
                    _, self._protocol = await loop.create_connection(
                        _ConnectionProtocol, self._host, self._port
                    )
            head = await self._protocol.answer(request_bytes, deadline)
        # OSError covers TimeoutError and refused or reset connections.
        except (OSError, asyncio.IncompleteReadError, MalformedResponseError) as error:
            # Whatever the connection still holds would answer the next request wrongly.
            self.close()
            return type(error).__name__
        if head.closes:
            self.close()
        return head.status

    def close(self) -> None:
        if self._protocol is not None:
            self._protocol.close()
            self._protocol = None


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
