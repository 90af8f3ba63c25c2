"""The registry's HTTP routes: parse the request, ask the `Registry`, send its reply."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import orjson
from prometheus_client import Counter
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from iglu_registry import openapi
from iglu_registry.access import Access
from iglu_registry.service import (
    BadRequest,
    Registry,
    RegistryError,
    Reply,
    Representation,
    TooLarge,
    check_filter,
    parse_bool,
    parse_key_path,
)
from iglu_registry.store import Filter
from libs.formats.iglu import SchemaKey
from libs.metrics import metrics_route

REQUESTS = Counter(
    "furrow_registry_requests_total", "Requests by route and status", ["route", "status"]
)

Handler = Callable[[Request], Awaitable[Reply]]


def build_app(registry: Registry) -> Starlette:
    limit = registry.config.max_body_bytes

    async def caller(request: Request) -> Access:
        return await registry.access(request.headers.get("apikey"))

    def slot(request: Request) -> tuple[object, ...]:
        return (request.scope["path"], request.scope["query_string"])

    def fresh(request: Request) -> bool:
        return "no-cache" in request.headers.get("cache-control", "")

    async def list_schemas(request: Request) -> Reply:
        async def read(access: Access) -> Reply:
            which = check_filter(Filter(**request.path_params))
            representation = Representation.parse(
                request.query_params.get("repr"), Representation.URI
            )
            return await registry.list_schemas(access, which, representation)

        return await registry.cached(
            request.headers.get("apikey"), slot(request), read, fresh=fresh(request)
        )

    async def read_schema(request: Request) -> Reply:
        async def read(access: Access) -> Reply:
            key = parse_key_path(**request.path_params)
            representation = Representation.parse(
                request.query_params.get("repr"), Representation.CANONICAL
            )
            return await registry.read_schema(access, key, representation)

        return await registry.cached(
            request.headers.get("apikey"), slot(request), read, fresh=fresh(request)
        )

    async def put_schema(request: Request) -> Reply:
        key = parse_key_path(**request.path_params)
        return await _publish(request, key=key)

    async def post_schema(request: Request) -> Reply:
        return await _publish(request, key=None)

    async def _publish(request: Request, key: SchemaKey | None) -> Reply:
        is_public = parse_bool("isPublic", request.query_params.get("isPublic"), False)
        access = await caller(request)
        body = await read_json(request, limit)
        return await registry.publish(access, body, key=key, is_public=is_public)

    async def delete_schema(request: Request) -> Reply:
        key = parse_key_path(**request.path_params)
        return await registry.delete(await caller(request), key)

    async def lint_schema(request: Request) -> Reply:
        return registry.lint_schema(await read_json(request, limit))

    async def validate_instance(request: Request) -> Reply:
        access = await caller(request)
        return await registry.validate_instance(access, await read_json(request, limit))

    async def create_keys(request: Request) -> Reply:
        access = await caller(request)
        return await registry.create_keys(access, await read_json(request, limit))

    async def delete_key(request: Request) -> Reply:
        return await registry.delete_key(await caller(request), request.query_params.get("key"))

    async def changes(request: Request) -> Reply:
        # Never cached: resolvers ask it to learn what their caches must forget.
        return await registry.changes(await caller(request), request.query_params.get("after"))

    async def server_info(request: Request) -> Reply:
        return await registry.server_info(await caller(request))

    async def health(request: Request) -> Response:
        return PlainTextResponse("OK")

    async def database_health(request: Request) -> Response:
        if await registry.database_healthy():
            return PlainTextResponse("OK")
        return PlainTextResponse("database unavailable", status_code=503)

    spec = openapi.document()
    page = openapi.docs_page(spec)

    async def openapi_document(request: Request) -> Response:
        return JSONResponse(spec)

    async def docs(request: Request) -> Response:
        return HTMLResponse(page)

    schema_path = "/api/schemas/{vendor}/{name}/{format}/{version}"
    return Starlette(
        # The read of one schema first: it is what resolvers hammer.
        routes=[
            Route(schema_path, _json("read", read_schema), methods=["GET"]),
            Route("/api/schemas", _json("list", list_schemas), methods=["GET"]),
            Route("/api/schemas", _json("post", post_schema), methods=["POST"]),
            Route("/api/schemas/{vendor}", _json("list", list_schemas), methods=["GET"]),
            Route("/api/schemas/{vendor}/{name}", _json("list", list_schemas), methods=["GET"]),
            Route(
                "/api/schemas/{vendor}/{name}/{format}",
                _json("list", list_schemas),
                methods=["GET"],
            ),
            Route(schema_path, _json("put", put_schema), methods=["PUT"]),
            Route(schema_path, _json("delete", delete_schema), methods=["DELETE"]),
            Route(
                "/api/validation/validate/schema/jsonschema",
                _json("lint", lint_schema),
                methods=["POST"],
            ),
            Route(
                "/api/validation/validate/instance",
                _json("validate", validate_instance),
                methods=["POST"],
            ),
            Route("/api/auth/keygen", _json("keygen", create_keys), methods=["POST"]),
            Route("/api/auth/keygen", _json("keygen_delete", delete_key), methods=["DELETE"]),
            Route("/api/meta/health", health, methods=["GET"]),
            Route("/api/meta/health/db", database_health, methods=["GET"]),
            Route("/api/meta/server", _json("server", server_info), methods=["GET"]),
            Route("/api/meta/changes", _json("changes", changes), methods=["GET"]),
            Route("/api/openapi.json", openapi_document, methods=["GET"]),
            Route("/api/docs", docs, methods=["GET"]),
            metrics_route(),
        ],
        exception_handlers={HTTPException: _http_error},
    )


async def read_json(request: Request, limit: int) -> object:
    """The request body as JSON; TooLarge past `limit` bytes, BadRequest if it is not JSON."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"the body is larger than the limit of {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise TooLarge(f"the body is larger than the limit of {limit} bytes")
    if not body:
        raise BadRequest("the body is empty: send a JSON document")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise BadRequest(f"the body is not valid JSON: {error}") from None


def _json(route: str, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """`handler` as an endpoint: its Reply, or its RegistryError, as a JSON response."""
    requests = {status: REQUESTS.labels(route, str(status)) for status in (200, 201, 404)}

    async def endpoint(request: Request) -> Response:
        try:
            reply = await handler(request)
        except RegistryError as error:
            reply = Reply.json(error.to_json(), error.status)
        counter = requests.get(reply.status) or REQUESTS.labels(route, str(reply.status))
        counter.inc()
        return Response(reply.body, reply.status, media_type="application/json")

    return endpoint


async def _http_error(request: Request, error: Exception) -> Response:
    # Unknown paths and methods answer in JSON like every other error.
    assert isinstance(error, HTTPException)
    return JSONResponse({"message": error.detail}, error.status_code, headers=error.headers)
