"""The registry's HTTP routes."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from iglu_registry.config import RegistryConfig
from libs.metrics import metrics_route
from libs.version import VERSION


def build_app(config: RegistryConfig) -> Starlette:
    async def health(request: Request) -> Response:
        return PlainTextResponse("OK")

    async def server_info(request: Request) -> Response:
        return JSONResponse(
            {"version": VERSION, "superKeyConfigured": config.super_key is not None}
        )

    return Starlette(
        routes=[
            Route("/api/meta/health", health, methods=["GET"]),
            Route("/api/meta/server", server_info, methods=["GET"]),
            metrics_route(),
        ]
    )
