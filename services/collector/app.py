"""The collector's HTTP surface: which request is what, and the answers trackers expect.

A plain ASGI app rather than a Starlette one: tracking requests are the hot path, and framework
layers (middleware, Request and Headers objects) cost more than the collector's own work.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

from libs.pipes import Message, Sink, SinkError
from libs.version import VERSION
from services.collector.config import CollectorConfig
from services.collector.payload import (
    TrackingRequest,
    collector_payload,
    is_cookie_value,
    is_do_not_track,
    network_user_id,
    set_cookie_header,
)
from services.collector.split import fit, violation

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
HeaderList = list[tuple[bytes, bytes]]

COLLECTOR_NAME = f"furrow-{VERSION}-kafka"
# The transparent 1x1 GIF every Snowplow collector answers pixel requests with.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
NO_CACHE = b"no-cache, no-store, must-revalidate"
# Kafka refuses a produce request larger than max.request.size, counting the record's own framing.
RECORD_FRAMING_BYTES = 1024
BODY_TOO_LARGE = "request body larger than the collector accepts"
MAX_RECORDED_BYTES = 2**63 - 1
# Printable ASCII but space: left as is in a Location header.
LOCATION_SAFE = "".join(map(chr, range(0x21, 0x7F)))

REQUESTS = Counter("furrow_collector_requests_total", "HTTP requests", ["endpoint", "status"])
EVENTS = Counter("furrow_collector_events_total", "Tracker events received")
BODY_BYTES = Counter("furrow_collector_body_bytes_total", "Request body bytes received")
BAD_ROWS = Counter("furrow_collector_bad_rows_total", "size_violation bad rows written")
KAFKA_WRITES = Histogram("furrow_collector_kafka_write_seconds", "Time for Kafka to ack a write")
KAFKA_FAILURES = Counter("furrow_collector_kafka_write_failures_total", "Writes Kafka did not take")


class Endpoint(Enum):
    HEALTH = "health"
    SINK_HEALTH = "sink-health"
    ROBOTS = "robots"
    METRICS = "metrics"
    PIXEL = "pixel"
    VENDOR = "vendor"
    REDIRECT = "redirect"
    UNKNOWN = "unknown"


FIXED_PATHS = {
    "/health": Endpoint.HEALTH,
    "/sink-health": Endpoint.SINK_HEALTH,
    "/robots.txt": Endpoint.ROBOTS,
    "/metrics": Endpoint.METRICS,
    "/i": Endpoint.PIXEL,
    "/ice.png": Endpoint.PIXEL,
    "/r/tp2": Endpoint.REDIRECT,
}


def endpoint_of(path: str) -> Endpoint:
    """What a request path is for; `/{vendor}/{version}` is any two non-empty segments."""
    if found := FIXED_PATHS.get(path):
        return found
    segments = path.split("/")
    if len(segments) == 3 and segments[0] == "" and segments[1] and segments[2]:
        return Endpoint.VENDOR
    return Endpoint.UNKNOWN


def redirect_target(query_string: str, allowed_domains: list[str]) -> str | None:
    """The `u` parameter when it is an absolute http(s) URL to an allowed host, else None."""
    target = dict(parse_qsl(query_string)).get("u")
    if not target:
        return None
    try:
        parts = urlsplit(target)
    except ValueError:  # an unclosed IPv6 bracket, "https://[::1"
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        return None
    if allowed_domains and not any(
        host == domain or host.endswith("." + domain) for domain in allowed_domains
    ):
        return None
    return target


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes = b""
    headers: tuple[tuple[bytes, bytes], ...] = ()


def text(status: int, content: str) -> Reply:
    return Reply(status, content.encode(), ((b"content-type", b"text/plain; charset=utf-8"),))


PIXEL_REPLY = Reply(200, PIXEL, ((b"content-type", b"image/gif"), (b"cache-control", NO_CACHE)))
OK_REPLY = text(200, "ok")
NOT_FOUND = text(404, "not found")
METHOD_NOT_ALLOWED = text(405, "method not allowed")
NOT_STORED = text(503, "events not stored, retry later")


ROBOTS_REPLY = text(200, "User-agent: *\nDisallow: /\n")
SINK_UNHEALTHY = text(503, "sink unhealthy")
BODY_TOO_LARGE_REPLY = text(413, BODY_TOO_LARGE)
REDIRECT_REFUSED = text(400, "u must be an absolute http(s) URL to an allowed domain")
REDIRECTS_DISABLED = text(404, "redirects are disabled")


class ClientGone(Exception):
    """The client disconnected before its request body arrived."""


class Collector:
    """Turns tracking requests into raw records in `sink`, answering only once they are stored
    (or at once, in fire-and-forget mode). An ASGI application; the sink is started and stopped
    with the server (its lifespan)."""

    def __init__(self, config: CollectorConfig, sink: Sink) -> None:
        self.config = config
        self.sink = sink
        self.record_limit = sink.max_bytes - RECORD_FRAMING_BYTES
        self._background: set[asyncio.Task[None]] = set()
        self._request_counters: dict[tuple[Endpoint, int], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._run_lifespan(receive, send)
            return
        requested: str = scope["path"]
        path = self.config.paths.get(requested, requested)
        endpoint = endpoint_of(path)
        headers = [
            (name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]
        ]
        try:
            reply = await self._answer(scope, receive, path, endpoint, headers)
        except ClientGone:
            return
        self._count(endpoint, reply.status)
        response_headers = [*reply.headers, (b"content-length", b"%d" % len(reply.body))]
        await send(
            {"type": "http.response.start", "status": reply.status, "headers": response_headers}
        )
        body = b"" if scope["method"] == "HEAD" else reply.body
        await send({"type": "http.response.body", "body": body})

    async def _answer(
        self,
        scope: Scope,
        receive: Receive,
        path: str,
        endpoint: Endpoint,
        headers: list[tuple[str, str]],
    ) -> Reply:
        method = scope["method"]
        if method == "OPTIONS":
            return self._preflight(headers)
        if endpoint is Endpoint.UNKNOWN:
            return NOT_FOUND
        if endpoint in (Endpoint.PIXEL, Endpoint.VENDOR) and method in ("GET", "HEAD"):
            return await self._track(scope, receive, path, headers, PIXEL_REPLY)
        if endpoint is Endpoint.VENDOR and method == "POST":
            return await self._track(scope, receive, path, headers, OK_REPLY)
        if endpoint is Endpoint.REDIRECT and method == "GET":
            return await self._redirect(scope, receive, path, headers)
        if method != "GET":
            return METHOD_NOT_ALLOWED
        if endpoint is Endpoint.HEALTH:
            return OK_REPLY
        if endpoint is Endpoint.SINK_HEALTH:
            # Snowplow's contract: unhealthy until the first write has gone through.
            if self.sink.is_healthy():
                return OK_REPLY
            if (problem := self.sink.health_problem()) is not None:
                return text(503, f"sink unhealthy: {problem}")
            return SINK_UNHEALTHY
        if endpoint is Endpoint.METRICS:
            return Reply(200, generate_latest(), ((b"content-type", CONTENT_TYPE_LATEST.encode()),))
        return ROBOTS_REPLY

    async def _redirect(
        self, scope: Scope, receive: Receive, path: str, headers: list[tuple[str, str]]
    ) -> Reply:
        if not self.config.redirect_enabled:
            return REDIRECTS_DISABLED
        query = scope["query_string"].decode("utf-8", errors="replace")
        target = redirect_target(query, self.config.redirect_domains)
        if target is None:
            return REDIRECT_REFUSED
        # `u` arrives percent-decoded: what a header cannot hold (CR LF, controls, non-ASCII,
        # spaces) is encoded again, as a browser would, instead of breaking the response.
        location = Reply(302, b"", ((b"location", quote(target, safe=LOCATION_SAFE).encode()),))
        return await self._track(scope, receive, path, headers, location)

    async def _track(
        self,
        scope: Scope,
        receive: Receive,
        path: str,
        headers: list[tuple[str, str]],
        success: Reply,
    ) -> Reply:
        body: bytes | None = None
        if scope["method"] == "POST":
            body = await self._read_body(receive, headers)
            if body is None:
                return BODY_TOO_LARGE_REPLY
        now = datetime.now(UTC)
        client = scope.get("client")
        request = TrackingRequest(
            path=path,
            query_string=scope["query_string"].decode("utf-8", errors="replace"),
            headers=headers,
            body=body,
            peer_ip=client[0] if client else "unknown",
            received_ms=int(now.timestamp() * 1000),
        )
        origin = request.header("origin")
        answered = (
            *success.headers,
            (b"access-control-allow-origin", (origin or "*").encode("latin-1")),
            (b"access-control-allow-credentials", b"true"),
        )
        if is_do_not_track(request, self.config):
            return Reply(success.status, success.body, answered)
        user_id = network_user_id(request, self.config.cookie_name)
        payload = collector_payload(
            request, collector=COLLECTOR_NAME, config=self.config, user_id=user_id
        )
        fitted = fit(payload, self.record_limit, now=now)
        key = payload.ip_address.encode() if self.config.partition_key == "ip" else None
        messages = [Message(self.config.topics.raw, record, key) for record in fitted.records]
        messages += [Message(self.config.topics.bad, row) for row in fitted.bad_rows]
        if not await self._store(messages):
            return NOT_STORED
        EVENTS.inc(fitted.events)
        if fitted.bad_rows:
            BAD_ROWS.inc(len(fitted.bad_rows))
        # A user id that is no cookie value (a `nuid` with spaces, non-ASCII, CR LF) is stored as
        # sent but not set as a cookie: it would break, or split, the response's headers.
        if self.config.cookie_enabled and not request.anonymous and is_cookie_value(user_id):
            cookie = set_cookie_header(user_id, origin, self.config, now=now)
            answered += ((b"set-cookie", cookie.encode("latin-1")),)
        return Reply(success.status, success.body, answered)

    async def _read_body(self, receive: Receive, headers: list[tuple[str, str]]) -> bytes | None:
        """The whole body, or None (after recording a size_violation) if it is over the limit."""
        limit = self.config.max_body_bytes
        declared = next((value for name, value in headers if name == "content-length"), "")
        chunks: list[bytes] = []
        received = 0
        # isdigit() alone takes "²" (a latin-1 byte) for a digit, which int() refuses.
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            # The bad row's sizes are 64-bit integers; a larger claim is recorded as the largest.
            await self._refuse_body(b"", min(int(declared), MAX_RECORDED_BYTES))
            return None
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            chunk = message.get("body", b"")
            received += len(chunk)
            chunks.append(chunk)
            if received > limit:
                await self._refuse_body(b"".join(chunks), received)
                return None
            if not message.get("more_body", False):
                BODY_BYTES.inc(received)
                return b"".join(chunks)

    async def _refuse_body(self, start: bytes, actual_bytes: int) -> None:
        """Record a body over the limit as a size_violation bad row."""
        limit = self.config.max_body_bytes
        row = violation(start, actual_bytes, limit, BODY_TOO_LARGE, datetime.now(UTC))
        if await self._store([Message(self.config.topics.bad, row)]):
            BAD_ROWS.inc()

    async def _store(self, messages: list[Message]) -> bool:
        """True once Kafka holds `messages` (at once in fire-and-forget mode)."""
        if self.config.durability == "fire_and_forget":
            task = asyncio.create_task(self._write_logging_failure(messages))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            return True
        return await self._write(messages)

    async def _write(self, messages: list[Message]) -> bool:
        started = time.perf_counter()
        try:
            await self.sink.write(messages)
        except SinkError:
            KAFKA_FAILURES.inc()
            logger.warning("Kafka did not take a write", exc_info=True)
            return False
        KAFKA_WRITES.observe(time.perf_counter() - started)
        return True

    async def _write_logging_failure(self, messages: list[Message]) -> None:
        if not await self._write(messages):
            logger.error("fire-and-forget write lost", extra={"records": len(messages)})

    def _preflight(self, headers: list[tuple[str, str]]) -> Reply:
        origin = next((value for name, value in headers if name == "origin"), "*")
        return Reply(
            200,
            b"",
            (
                (b"access-control-allow-origin", origin.encode("latin-1")),
                (b"access-control-allow-credentials", b"true"),
                (b"access-control-allow-headers", b"Content-Type, SP-Anonymous"),
                (b"access-control-max-age", str(self.config.cors_max_age_s).encode()),
            ),
        )

    def _count(self, endpoint: Endpoint, status: int) -> None:
        # Resolving a labelled child costs a lock and a dict lookup per request; keep them.
        counter = self._request_counters.get((endpoint, status))
        if counter is None:
            counter = REQUESTS.labels(endpoint.value, str(status))
            self._request_counters[(endpoint, status)] = counter
        counter.inc()

    async def _run_lifespan(self, receive: Receive, send: Send) -> None:
        await receive()  # lifespan.startup
        try:
            await self.sink.start()
        except Exception as error:
            await send({"type": "lifespan.startup.failed", "message": repr(error)})
            return
        try:
            await send({"type": "lifespan.startup.complete"})
            await receive()  # lifespan.shutdown
        finally:
            await self.sink.stop()
        await send({"type": "lifespan.shutdown.complete"})


def build_app(config: CollectorConfig, sink: Sink) -> Collector:
    """The collector ASGI app writing to `sink`."""
    return Collector(config, sink)


def serve(app: ASGIApp, config: CollectorConfig) -> None:
    """Serve `app` (the collector, or an app around it) where `config` says, until SIGTERM."""
    uvicorn.run(
        app,
        host=config.host,
        port=config.port,
        lifespan="on",
        # The collector decides itself whether to trust X-Forwarded-For (trust_proxy_headers).
        proxy_headers=False,
        log_config=None,
        access_log=False,
    )
