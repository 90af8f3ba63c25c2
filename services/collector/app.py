"""The collector's HTTP routes."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Lifespan

from libs.metrics import metrics_route
from libs.pipes import Sink


def build_app(sink: Sink, lifespan: Lifespan[Starlette] | None = None) -> Starlette:
    """The collector app writing to `sink`; `lifespan` starts and stops what the caller owns."""

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def sink_health(request: Request) -> Response:
        # Snowplow's contract: unhealthy until the first write has gone through.
        if sink.is_healthy():
            return PlainTextResponse("ok")
        return PlainTextResponse("sink unhealthy", status_code=503)

    async def robots(request: Request) -> Response:
        return PlainTextResponse("User-agent: *\nDisallow: /\n")

    return Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/sink-health", sink_health, methods=["GET"]),
            Route("/robots.txt", robots, methods=["GET"]),
            metrics_route(),
        ],
        lifespan=lifespan,
    )
