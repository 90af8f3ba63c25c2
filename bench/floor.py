"""The floor the collector is measured against: a bare Starlette app answering 200 on any path,
served by the same uvicorn stack as the collector."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route


async def ok(request: Request) -> Response:
    await request.body()
    return PlainTextResponse("ok")


app = Starlette(routes=[Route("/{path:path}", ok, methods=["GET", "POST"])])
