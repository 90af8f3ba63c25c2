"""The console's HTTP surface: server-rendered pages (events, lookup by event id, bad rows
grouped, live tail, schemas, logs, pipeline), their JSON, the counts API, and Snowplow Micro's
API, read from an EventsIndex: Elasticsearch on the pipeline, memory in `furrow micro`.

No route writes anything, except Micro's reset where the configuration allows it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from libs.formats.iglu import SchemaKey, schema_key
from libs.metrics import metrics_route
from services.console import queries
from services.console.index import ElasticLogs, EventsIndex
from services.console.pipeline import PipelineView
from services.console.queries import EventFilters, Kind, ParameterError
from services.micro.api import OrjsonResponse
from services.micro.shapes import bad_row_summary, event_schema, object_at

HERE = Path(__file__).resolve().parent
RANGE = ("from", "to", "last")
EVENTS_PARAMETERS = (*RANGE, "kind", "size", "columns", *queries.EVENT_FILTERS)
SHOWN = {"all": queries.KINDS, "good": ("good",), "bad": ("bad",)}
MAX_EVENT_ID_CHARS = 200
TAIL_POLL_S = 1.0


def row_of(kind: Kind, source: dict[str, Any]) -> dict[str, Any]:
    """One line of the events table: what a reader scans for, and the whole document."""
    if kind == "good":
        return {
            "kind": kind,
            "time": source.get("@timestamp"),
            "what": source.get("event_name") or source.get("event"),
            "app_id": source.get("app_id"),
            "platform": source.get("platform"),
            "user": source.get("user_id") or source.get("domain_userid"),
            "event_id": source.get("event_id"),
            "schema": event_schema(source),
            "source": source,
        }
    data = object_at(source, "data")
    partial = object_at(object_at(data, "payload"), "enriched")
    return {
        "kind": kind,
        "time": source.get("@timestamp"),
        "what": bad_row_summary({"schema": source.get("schema"), "data": data})[:300],
        "app_id": partial.get("app_id"),
        "platform": partial.get("platform"),
        "user": partial.get("user_id") or partial.get("domain_userid"),
        "event_id": partial.get("event_id"),
        "schema": source.get("failure_type"),
        "source": source,
    }


@dataclass(frozen=True)
class Registry:
    """Where the console lists the registry's schemas: only the public ones without a key."""

    url: str
    api_key: str | None = None

    async def schema_keys(self) -> list[SchemaKey]:
        """Every schema it lets the console see; RegistryUnavailable if it does not answer."""
        headers = {"apikey": self.api_key} if self.api_key else {}
        try:
            async with httpx.AsyncClient(timeout=5, headers=headers) as client:
                answer = await client.get(
                    f"{self.url.rstrip('/')}/api/schemas", params={"repr": "uri"}
                )
                answer.raise_for_status()
                return [schema_key(uri) for uri in answer.json()]
        except (httpx.HTTPError, ValueError, TypeError) as error:
            raise RegistryUnavailable(f"{self.url}: {error}") from None


class RegistryUnavailable(Exception):
    """The registry did not list its schemas; the message says why."""


class Unavailable(Exception):
    """A view this console does not have (`furrow micro` has no pipeline and no logs)."""


class Console:
    """The console's answers, as data for a page or for JSON."""

    def __init__(
        self,
        index: EventsIndex,
        *,
        listed: dict[str, Callable[[], list[SchemaKey]]],
        registry: Registry | None,
        logs: ElasticLogs | None,
        pipeline: PipelineView | None,
    ) -> None:
        self._index = index
        self._listed = listed
        self._registry = registry
        self._logs = logs
        self._pipeline = pipeline

    @property
    def views(self) -> dict[str, bool]:
        """Which of the views and hints that need more than events this console has (replay
        reads the pipeline's `bad` topic)."""
        return {
            "logs": self._logs is not None,
            "pipeline": self._pipeline is not None,
            "replay": self._pipeline is not None,
        }

    async def events(self, given: Iterable[tuple[str, str]]) -> dict[str, Any]:
        params = queries.only(given, EVENTS_PARAMETERS)
        span = queries.time_range(params, datetime.now(UTC))
        shown = params.get("kind", "all")
        if shown not in SHOWN:
            raise ParameterError("kind must be all, good or bad")
        filters = queries.event_filters(params)
        size = queries.page_size(params)
        extra = queries.columns(params)
        width = queries.histogram_width(span.end - span.start)
        kinds = SHOWN[shown]
        pages = await asyncio.gather(
            *(self._index.events(kind, span, filters, size, width) for kind in kinds)
        )
        rows = [
            row_of(kind, source)
            for kind, page in zip(kinds, pages, strict=True)
            for source in page.sources
        ]
        rows.sort(key=lambda row: str(row["time"]), reverse=True)
        return {
            "params": params,
            "kind": shown,
            "from": queries.iso(span.start),
            "to": queries.iso(span.end),
            "width": width,
            "totals": {kind: page.total for kind, page in zip(kinds, pages, strict=True)},
            "histogram": {
                kind: page.histogram
                for kind, page in zip(kinds, pages, strict=True)
                if page.histogram is not None
            },
            "columns": extra,
            "column_choices": queries.field_paths(row["source"] for row in rows[:size]),
            "rows": [
                {**row, "extra": [queries.value_at(row["source"], path) for path in extra]}
                for row in rows[:size]
            ],
        }

    async def lookup(self, given: Iterable[tuple[str, str]]) -> dict[str, Any]:
        params = queries.only(given, ("event_id",))
        event_id = params.get("event_id", "").strip()
        if not event_id:
            return {"event_id": "", "status": None, "good": None, "bad": []}
        if len(event_id) > MAX_EVENT_ID_CHARS:
            raise ParameterError(f"event_id is longer than {MAX_EVENT_ID_CHARS} characters")
        found_good, bad = await self._index.lookup(event_id)
        found_bad = [row_of("bad", source) for source in bad]
        status = "good" if found_good else "bad" if found_bad else "not seen"
        return {
            "event_id": event_id,
            "status": status,
            "good": found_good[0] if found_good else None,
            "bad": found_bad,
        }

    async def bad_groups(self, given: Iterable[tuple[str, str]]) -> dict[str, Any]:
        params = queries.only(given, (*RANGE, *queries.EVENT_FILTERS))
        span = queries.time_range(params, datetime.now(UTC))
        filters = queries.event_filters(params)
        groups = await self._index.bad_groups(span, filters)
        return {
            "params": params,
            "from": queries.iso(span.start),
            "to": queries.iso(span.end),
            "groups": [
                {
                    **asdict(group),
                    "example_reason": bad_row_summary(group.examples[0]) if group.examples else "",
                    "replay": queries.replay_command(
                        group.failure_type, group.schema, group.first_seen
                    )
                    if self.views["replay"]
                    else None,
                }
                for group in groups
            ],
        }

    async def counts(self, given: Iterable[tuple[str, str]]) -> dict[str, Any]:
        params = queries.only(given, (*RANGE, "by", "bucket"))
        span = queries.time_range(params, datetime.now(UTC))
        by = params.get("by", "event_name")
        bucket = params.get("bucket", "1m")
        queries.counts_width(span, by, bucket)
        return {
            "from": queries.iso(span.start),
            "to": queries.iso(span.end),
            "by": by,
            "bucket": bucket,
            "buckets": await self._index.counts(span, by, bucket),
        }

    async def schemas(self, given: Iterable[tuple[str, str]]) -> dict[str, Any]:
        params = queries.only(given, RANGE)
        span = queries.time_range(params, datetime.now(UTC))
        sources = {source: keys() for source, keys in self._listed.items()}
        problem = None
        if self._registry is not None:
            try:
                sources["registry"] = await self._registry.schema_keys()
            except RegistryUnavailable as unavailable:
                problem = str(unavailable)
        counts = await self._index.schema_counts(span)
        rows = queries.schema_rows(sources, counts["good"], counts["bad"])
        return {
            "params": params,
            "from": queries.iso(span.start),
            "to": queries.iso(span.end),
            "registry_problem": problem,
            "schemas": [asdict(row) for row in rows],
        }

    async def pipeline(self, given: Iterable[tuple[str, str]]) -> dict[str, Any]:
        queries.only(given, ())
        if self._pipeline is None:
            raise Unavailable("furrow micro runs no Kafka and no sinks: it has no pipeline view")
        return await self._pipeline.look()

    async def logs(self, given: Iterable[tuple[str, str]]) -> dict[str, Any]:
        params = queries.only(given, (*RANGE, "size", *queries.LOG_FILTERS))
        span = queries.time_range(params, datetime.now(UTC))
        if self._logs is None:
            raise Unavailable("furrow micro keeps no logs index: its log is on its output")
        found = await self._logs.lines(span, params, queries.page_size(params, default=100))
        return {
            "params": params,
            "from": queries.iso(span.start),
            "to": queries.iso(span.end),
            **found,
        }

    def tail_request(
        self, given: Iterable[tuple[str, str]]
    ) -> tuple[tuple[Kind, ...], EventFilters]:
        """What a live tail shows; ParameterError before the stream starts if it cannot."""
        params = queries.only(given, ("kind", *queries.EVENT_FILTERS))
        shown = params.get("kind", "all")
        if shown not in SHOWN:
            raise ParameterError("kind must be all, good or bad")
        return SHOWN[shown], queries.event_filters(params)

    async def tail(
        self, kinds: tuple[Kind, ...], filters: EventFilters
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Every TAIL_POLL_S, the rows not shown before, oldest first."""
        shown: dict[str, str] = {}
        while True:
            since = datetime.now(UTC)
            answers = await asyncio.gather(
                *(self._index.tail(kind, since, filters) for kind in kinds)
            )
            fresh = []
            for kind, found in zip(kinds, answers, strict=True):
                for document_id, source in found:
                    key = f"{kind}/{document_id}"
                    if key not in shown:
                        shown[key] = str(source.get("@timestamp"))
                        fresh.append(row_of(kind, source))
            yield sorted(fresh, key=lambda row: str(row["time"]))
            # What the next poll can no longer return need not be remembered.
            horizon = queries.iso(since - queries.TAIL_LOOKBACK)
            shown = {key: moment for key, moment in shown.items() if moment >= horizon}
            await asyncio.sleep(TAIL_POLL_S)


Handler = Callable[[Iterable[tuple[str, str]]], Awaitable[dict[str, Any]]]


def build_app(console: Console, micro: Starlette | None = None) -> Starlette:
    """The console's routes, and `micro` (Micro's API) for every other path if given. Pages
    link within the path the app is mounted at (`/micro/ui` in `furrow micro`)."""

    def page_context(request: Request) -> dict[str, Any]:
        return {"base": request.scope.get("root_path", ""), "views": console.views}

    templates = Jinja2Templates(directory=HERE / "templates", context_processors=[page_context])

    def refused(request: Request, reason: str, status_code: int) -> Response:
        return templates.TemplateResponse(
            request, "error.html", {"reason": reason}, status_code=status_code
        )

    def page(template: str, answer: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def render(request: Request) -> Response:
            try:
                found = await answer(request.query_params.multi_items())
            except ParameterError as error:
                return refused(request, str(error), 400)
            except Unavailable as unavailable:
                return refused(request, str(unavailable), 404)
            return templates.TemplateResponse(request, template, found)

        return render

    def api(answer: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def respond(request: Request) -> Response:
            try:
                return OrjsonResponse(await answer(request.query_params.multi_items()))
            except ParameterError as error:
                return PlainTextResponse(str(error), status_code=400)
            except Unavailable as unavailable:
                return PlainTextResponse(str(unavailable), status_code=404)

        return respond

    async def tail(request: Request) -> Response:
        try:
            kinds, filters = console.tail_request(request.query_params.multi_items())
        except ParameterError as error:
            return PlainTextResponse(str(error), status_code=400)

        async def events() -> AsyncIterator[bytes]:
            async for rows in console.tail(kinds, filters):
                if await request.is_disconnected():
                    return
                for row in rows:
                    yield b"data: " + orjson.dumps(row) + b"\n\n"
                # A comment on every poll: a client that left is noticed by the next write.
                yield b": polled\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    async def tail_page(request: Request) -> Response:
        try:
            params = queries.only(
                request.query_params.multi_items(), ("kind", *queries.EVENT_FILTERS)
            )
            console.tail_request(params.items())
        except ParameterError as error:
            return refused(request, str(error), 400)
        return templates.TemplateResponse(request, "tail.html", {"params": params})

    async def home(request: Request) -> Response:
        return RedirectResponse(f"{request.scope.get('root_path', '')}/events")

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    routes: list[BaseRoute] = [
        Route("/", home),
        Route("/health", health),
        metrics_route(),
        Route("/events", page("events.html", console.events)),
        Route("/lookup", page("lookup.html", console.lookup)),
        Route("/bad", page("bad.html", console.bad_groups)),
        Route("/tail", tail_page),
        Route("/schemas", page("schemas.html", console.schemas)),
        Route("/logs", page("logs.html", console.logs)),
        Route("/pipeline", page("pipeline.html", console.pipeline)),
        Route("/api/pipeline", api(console.pipeline)),
        Route("/api/logs", api(console.logs)),
        Route("/api/schemas", api(console.schemas)),
        Route("/api/tail", tail),
        Route("/api/events", api(console.events)),
        Route("/api/lookup", api(console.lookup)),
        Route("/api/bad-groups", api(console.bad_groups)),
        Route("/api/counts", api(console.counts)),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    if micro is not None:
        routes.append(Mount("/", micro))
    return Starlette(routes=routes)
