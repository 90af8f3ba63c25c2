"""Prometheus metrics and the `/health` + `/metrics` endpoints every long-running service exposes.

HTTP services mount `metrics_route()` on their own app; consumers, which have no HTTP surface of
their own, serve `health_app()` on a metrics port with `embedded_server()`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route


def metrics_route(registry: CollectorRegistry = REGISTRY) -> Route:
    """`GET /metrics` in the Prometheus text format."""

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return Route("/metrics", metrics, methods=["GET"])


def health_route(problem: Callable[[], str | None]) -> Route:
    """`GET /health`: 200 `ok` while `problem()` is None, else 503 with the problem."""

    async def health(request: Request) -> Response:
        if (found := problem()) is None:
            return PlainTextResponse("ok")
        return PlainTextResponse(f"unhealthy: {found}", status_code=503)

    return Route("/health", health, methods=["GET"])


def health_app(problem: Callable[[], str | None]) -> Starlette:
    """A two-route app for services that have no HTTP API of their own."""
    return Starlette(routes=[health_route(problem), metrics_route()])


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server inside a service that handles signals itself: run `serve()` as a task,
    set `should_exit` to stop it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def embedded_server(app: Starlette, host: str, port: int) -> EmbeddedServer:
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False)
    return EmbeddedServer(config)
