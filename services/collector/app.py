"""The collector's HTTP surface: which request is what, and the answers trackers expect."""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from enum import Enum
from urllib.parse import parse_qsl, urlsplit

from prometheus_client import Counter, Histogram
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import Lifespan

from libs.metrics import metrics_route
from libs.pipes import Message, Sink, SinkError
from libs.version import VERSION
from services.collector.config import CollectorConfig
from services.collector.payload import (
    TrackingRequest,
    collector_payload,
    is_do_not_track,
    network_user_id,
    set_cookie_header,
)
from services.collector.split import fit, violation

logger = logging.getLogger(__name__)

COLLECTOR_NAME = f"furrow-{VERSION}-kafka"
# The transparent 1x1 GIF every Snowplow collector answers pixel requests with.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
NO_CACHE = "no-cache, no-store, must-revalidate"
# Kafka refuses a produce request larger than max.request.size, counting the record's own framing.
RECORD_FRAMING_BYTES = 1024
BODY_TOO_LARGE = "request body larger than the collector accepts"

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
    PIXEL = "pixel"
    VENDOR = "vendor"
    REDIRECT = "redirect"
    UNKNOWN = "unknown"


FIXED_PATHS = {
    "/health": Endpoint.HEALTH,
    "/sink-health": Endpoint.SINK_HEALTH,
    "/robots.txt": Endpoint.ROBOTS,
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
    parts = urlsplit(target)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        return None
    if allowed_domains and not any(
        host == domain or host.endswith("." + domain) for domain in allowed_domains
    ):
        return None
    return target


class Collector:
    """Turns tracking requests into raw records in `sink`, answering only once they are stored
    (or at once, in fire-and-forget mode)."""

    def __init__(self, config: CollectorConfig, sink: Sink) -> None:
        self.config = config
        self.sink = sink
        self.record_limit = sink.max_bytes - RECORD_FRAMING_BYTES
        self._background: set[asyncio.Task[None]] = set()

    async def handle(self, request: Request) -> Response:
        path = self.config.paths.get(request.url.path, request.url.path)
        endpoint = endpoint_of(path)
        response = await self._answer(request, path, endpoint)
        REQUESTS.labels(endpoint.value, str(response.status_code)).inc()
        return response

    async def _answer(self, request: Request, path: str, endpoint: Endpoint) -> Response:
        method = request.method
        if method == "OPTIONS":
            return self._preflight(request)
        if endpoint is Endpoint.UNKNOWN:
            return PlainTextResponse("not found", status_code=404)
        if endpoint in (Endpoint.PIXEL, Endpoint.VENDOR) and method in ("GET", "HEAD"):
            return await self._track(request, path, _pixel)
        if endpoint is Endpoint.VENDOR and method == "POST":
            return await self._track(request, path, _ok)
        if endpoint is Endpoint.REDIRECT and method == "GET":
            return await self._redirect(request, path)
        if method != "GET":
            return PlainTextResponse("method not allowed", status_code=405)
        if endpoint is Endpoint.HEALTH:
            return PlainTextResponse("ok")
        if endpoint is Endpoint.SINK_HEALTH:
            if self.sink.is_healthy():
                return PlainTextResponse("ok")
            return PlainTextResponse("sink unhealthy", status_code=503)
        # Every other GET endpoint was answered above.
        return PlainTextResponse("User-agent: *\nDisallow: /\n")

    async def _redirect(self, request: Request, path: str) -> Response:
        if not self.config.redirect_enabled:
            return PlainTextResponse("redirects are disabled", status_code=404)
        target = redirect_target(request.url.query, self.config.redirect_domains)
        if target is None:
            return PlainTextResponse(
                "u must be an absolute http(s) URL to an allowed domain", status_code=400
            )
        return await self._track(request, path, lambda: RedirectResponse(target, 302))

    async def _track(self, request: Request, path: str, answer: Callable[[], Response]) -> Response:
        cookies = request.cookies
        if is_do_not_track(cookies, self.config):
            return self._with_cors(answer(), request)
        body: bytes | None = None
        if request.method == "POST":
            try:
                body = await self._read_body(request)
            except ClientDisconnect:
                return PlainTextResponse("client went away", status_code=400)
            if body is None:
                return PlainTextResponse(BODY_TOO_LARGE, status_code=413)
        now = datetime.now(UTC)
        tracking = TrackingRequest(
            path=path,
            query_string=request.scope["query_string"].decode("utf-8", errors="replace"),
            headers=[
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in request.scope["headers"]
            ],
            body=body,
            peer_ip=request.client.host if request.client else "unknown",
            received_ms=int(now.timestamp() * 1000),
        )
        user_id = network_user_id(tracking, cookies, self.config.cookie_name)
        payload = collector_payload(
            tracking, collector=COLLECTOR_NAME, config=self.config, user_id=user_id
        )
        fitted = fit(payload, self.record_limit, now=now)
        key = payload.ip_address.encode() if self.config.partition_key == "ip" else None
        messages = [Message(self.config.topics.raw, record, key) for record in fitted.records]
        messages += [Message(self.config.topics.bad, row) for row in fitted.bad_rows]
        if not await self._store(messages):
            return PlainTextResponse("events not stored, retry later", status_code=503)
        EVENTS.inc(fitted.events)
        BAD_ROWS.inc(len(fitted.bad_rows))
        response = self._with_cors(answer(), request)
        if self.config.cookie_enabled and not tracking.anonymous:
            origin = request.headers.get("origin")
            response.headers.append(
                "set-cookie", set_cookie_header(user_id, origin, self.config, now=now)
            )
        return response

    async def _read_body(self, request: Request) -> bytes | None:
        """The whole body, or None (after recording a size_violation) if it is over the limit."""
        limit = self.config.max_body_bytes
        declared = request.headers.get("content-length", "")
        chunks: list[bytes] = []
        received = 0
        if not (declared.isdigit() and int(declared) > limit):
            async for chunk in request.stream():
                received += len(chunk)
                if received > limit:
                    break
                chunks.append(chunk)
            else:
                BODY_BYTES.inc(received)
                return b"".join(chunks)
        actual = int(declared) if declared.isdigit() else received
        row = violation(b"".join(chunks), actual, limit, BODY_TOO_LARGE, datetime.now(UTC))
        if await self._store([Message(self.config.topics.bad, row)]):
            BAD_ROWS.inc()
        return None

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

    def _preflight(self, request: Request) -> Response:
        response = self._with_cors(Response(status_code=200), request)
        response.headers["access-control-allow-headers"] = "Content-Type, SP-Anonymous"
        response.headers["access-control-max-age"] = str(self.config.cors_max_age_s)
        return response

    @staticmethod
    def _with_cors(response: Response, request: Request) -> Response:
        response.headers["access-control-allow-origin"] = request.headers.get("origin", "*")
        response.headers["access-control-allow-credentials"] = "true"
        return response


def _pixel() -> Response:
    return Response(PIXEL, media_type="image/gif", headers={"cache-control": NO_CACHE})


def _ok() -> Response:
    return PlainTextResponse("ok")


ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]


def build_app(
    config: CollectorConfig, sink: Sink, lifespan: Lifespan[Starlette] | None = None
) -> Starlette:
    """The collector app writing to `sink`; `lifespan` starts and stops what the caller owns."""
    collector = Collector(config, sink)
    handle: Callable[[Request], Awaitable[Response]] = collector.handle
    return Starlette(
        routes=[metrics_route(), Route("/{path:path}", handle, methods=ALL_METHODS)],
        lifespan=lifespan,
    )
