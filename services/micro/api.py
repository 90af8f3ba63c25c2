"""Snowplow Micro's HTTP API, over any store of good and bad events: the memory of
`furrow micro`, or Elasticsearch for the console.

`/micro/all`, `/micro/good`, `/micro/bad` and `/micro/reset` answer GET and POST (a POST to
good or bad may carry filters as JSON; a GET may carry them in the query string), and
`/micro/iglu/{vendor}/{name}/jsonschema/{version}` the schema the resolver finds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route

from libs.formats.iglu import IgluError, SchemaKey
from libs.iglu_client import ResolutionError
from services.micro.shapes import (
    BadFilters,
    FilterError,
    GoodFilters,
    bad_filters,
    good_filters,
    query_filters,
)
from services.micro.store import Summary


class ResetRefused(Exception):
    """The store will not forget its events (the pipeline's, unless configured otherwise)."""


class MicroStore(Protocol):
    async def summary(self) -> Summary: ...

    async def good(self, filters: GoodFilters) -> list[dict[str, Any]]:
        """The events `filters` select, newest first; FilterError for a value it cannot use."""
        ...

    async def bad(self, filters: BadFilters) -> list[dict[str, Any]]: ...

    async def reset(self) -> Summary:
        """Forget every event; ResetRefused if this store must not."""
        ...


SchemaLookup = Callable[[SchemaKey], dict[str, Any]]
"""The schema for a key; ResolutionError if no repository has it."""

MICRO_PATHS = "Micro's paths are /micro/all, /micro/good, /micro/bad, /micro/reset and /micro/iglu"
# Where Snowplow Micro serves its UI, and `furrow micro` the console's pages.
UI_PATH = "/micro/ui"


class OrjsonResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def micro_app(store: MicroStore, schema: SchemaLookup, ui: Starlette | None = None) -> Starlette:
    """The API, answering CORS requests from any origin (tests run in browsers too), and `ui`
    under UI_PATH if given."""

    async def all_events(request: Request) -> Response:
        return OrjsonResponse((await store.summary()).as_json())

    async def good(request: Request) -> Response:
        try:
            return OrjsonResponse(await store.good(good_filters(await _filters(request))))
        except FilterError as error:
            return PlainTextResponse(str(error), status_code=400)

    async def bad(request: Request) -> Response:
        try:
            return OrjsonResponse(await store.bad(bad_filters(await _filters(request))))
        except FilterError as error:
            return PlainTextResponse(str(error), status_code=400)

    async def reset(request: Request) -> Response:
        try:
            return OrjsonResponse((await store.reset()).as_json())
        except ResetRefused as refused:
            return PlainTextResponse(str(refused), status_code=403)

    async def iglu(request: Request) -> Response:
        params = request.path_params
        try:
            key = SchemaKey.of(params["vendor"], params["name"], "jsonschema", params["version"])
        except IgluError as error:
            return PlainTextResponse(str(error), status_code=400)
        try:
            return OrjsonResponse(schema(key))
        except ResolutionError as missing:
            return OrjsonResponse(
                {"error": "ResolutionError", "lookupHistory": missing.lookup_history},
                status_code=404,
            )

    async def to_ui(request: Request) -> Response:
        return RedirectResponse(f"{UI_PATH}/")

    async def unknown(request: Request) -> Response:
        return PlainTextResponse(MICRO_PATHS, status_code=404)

    both = ["GET", "POST"]
    return Starlette(
        routes=[
            Route("/micro/all", all_events, methods=both),
            Route("/micro/good", good, methods=both),
            Route("/micro/bad", bad, methods=both),
            Route("/micro/reset", reset, methods=both),
            Route("/micro/iglu/{vendor}/{name}/jsonschema/{version}", iglu, methods=["GET"]),
            *([Route(UI_PATH, to_ui), Mount(UI_PATH, ui)] if ui is not None else []),
            Route("/micro/{rest:path}", unknown),
        ],
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origin_regex=".*",
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["Content-Type"],
            )
        ],
    )


async def _filters(request: Request) -> dict[str, Any]:
    """The filters of a request: its query string, and for a POST its JSON body (an empty body
    is no filter)."""
    given = query_filters(request.query_params.multi_items())
    if request.method != "POST":
        return given
    body = await request.body()
    if not body.strip():
        return given
    try:
        posted = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise FilterError(f"the body is not JSON: {error}") from None
    if not isinstance(posted, dict):
        raise FilterError("the body must be a JSON object of filters")
    return {**given, **posted}
