"""The console's HTTP surface: server-rendered pages (events, lookup by event id, bad rows
grouped), their JSON, the counts API, and Snowplow Micro's API, all read from Elasticsearch.

No route writes anything, except Micro's reset where the configuration allows it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from elasticsearch import AsyncElasticsearch
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from libs.config import KafkaSettings
from libs.formats.iglu import SchemaKey, schema_key
from libs.metrics import metrics_route
from services.console import queries
from services.console.lag import consumer_lags
from services.console.latency import (
    Buckets,
    IndexedLatencySource,
    collector_to_indexed,
    histogram_buckets,
)
from services.console.queries import EventFilters, Kind, ParameterError
from services.console.rates import MIN_INTERVAL_S, OffsetsSample, offsets_sample, rates
from services.endpoints import ConsumerGroup, Endpoint
from services.micro.api import MicroStore, OrjsonResponse, SchemaLookup, micro_app
from services.micro.shapes import bad_row_summary, event_schema, object_at

HERE = Path(__file__).resolve().parent
RANGE = ("from", "to", "last")
EVENTS_PARAMETERS = (*RANGE, "kind", "size", "columns", *queries.EVENT_FILTERS)
SHOWN = {"all": queries.KINDS, "good": ("good",), "bad": ("bad",)}
MAX_EVENT_ID_CHARS = 200
TAIL_POLL_S = 1.0
HEALTH_TIMEOUT_S = 2.0


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


@dataclass(frozen=True)
class PipelineLook:
    """What the pipeline view saw, for the next one to tell rates and recent latencies from."""

    offsets: OffsetsSample
    # None: the good sink's metrics did not answer.
    latency: Buckets | None


class Console:
    """The console's answers, as data for a page or for JSON."""

    def __init__(
        self,
        client: AsyncElasticsearch,
        good_index: str,
        bad_index: str,
        logs_index: str,
        *,
        builtin: list[SchemaKey],
        registry: Registry | None,
        components: list[Endpoint],
        kafka: KafkaSettings,
        groups: list[ConsumerGroup],
        indexed_latency: IndexedLatencySource,
    ) -> None:
        self._client = client
        self._indices: dict[Kind, str] = {"good": good_index, "bad": bad_index}
        self._logs_index = logs_index
        self._builtin = builtin
        self._registry = registry
        self._components = components
        self._kafka = kafka
        self._groups = groups
        self._indexed_latency = indexed_latency
        # Kept until a look at least MIN_INTERVAL_S later replaces it, so that rates are never
        # divided by a moment, however often the view is asked for.
        self._earlier: PipelineLook | None = None

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
        answers = await asyncio.gather(
            *(
                self._search(kind, queries.events_search(kind, span, filters, size, width))
                for kind in kinds
            )
        )
        rows = [
            row_of(kind, hit["_source"])
            for kind, answer in zip(kinds, answers, strict=True)
            for hit in answer["hits"]["hits"]
        ]
        rows.sort(key=lambda row: str(row["time"]), reverse=True)
        return {
            "params": params,
            "kind": shown,
            "from": queries.iso(span.start),
            "to": queries.iso(span.end),
            "width": width,
            "totals": {
                kind: int(answer["hits"]["total"]["value"])
                for kind, answer in zip(kinds, answers, strict=True)
            },
            "histogram": {
                kind: queries.histogram_points(answer["aggregations"])
                for kind, answer in zip(kinds, answers, strict=True)
                if "aggregations" in answer
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
        searches = queries.lookup_searches(event_id)
        good, bad = await asyncio.gather(
            self._search("good", searches["good"]), self._search("bad", searches["bad"])
        )
        found_good = [hit["_source"] for hit in good["hits"]["hits"]]
        found_bad = [row_of("bad", hit["_source"]) for hit in bad["hits"]["hits"]]
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
        answer = await self._search("bad", queries.bad_groups_search(span, filters))
        groups = queries.bad_groups(answer["aggregations"]) if "aggregations" in answer else []
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
                    ),
                }
                for group in groups
            ],
        }

    async def counts(self, given: Iterable[tuple[str, str]]) -> dict[str, Any]:
        params = queries.only(given, (*RANGE, "by", "bucket"))
        span = queries.time_range(params, datetime.now(UTC))
        by = params.get("by", "event_name")
        bucket = params.get("bucket", "1m")
        answer = await self._search("good", queries.counts_search(span, by, bucket))
        buckets = queries.counts(answer["aggregations"], by) if "aggregations" in answer else []
        return {
            "from": queries.iso(span.start),
            "to": queries.iso(span.end),
            "by": by,
            "bucket": bucket,
            "buckets": buckets,
        }

    async def schemas(self, given: Iterable[tuple[str, str]]) -> dict[str, Any]:
        params = queries.only(given, RANGE)
        span = queries.time_range(params, datetime.now(UTC))
        sources: dict[str, list[SchemaKey]] = {"built-in": self._builtin}
        problem = None
        if self._registry is not None:
            try:
                sources["registry"] = await self._registry.schema_keys()
            except RegistryUnavailable as unavailable:
                problem = str(unavailable)
        searches = queries.schema_counts_searches(span)
        good, bad = await asyncio.gather(
            self._search("good", searches["good"]), self._search("bad", searches["bad"])
        )
        answers: dict[Kind, dict[str, Any]] = {"good": good, "bad": bad}
        counts = {
            kind: queries.schema_counts(kind, answer["aggregations"])
            if "aggregations" in answer
            else {}
            for kind, answer in answers.items()
        }
        rows = queries.schema_rows(sources, counts["good"], counts["bad"])
        return {
            "params": params,
            "from": queries.iso(span.start),
            "to": queries.iso(span.end),
            "registry_problem": problem,
            "schemas": [asdict(row) for row in rows],
        }

    async def pipeline(self, given: Iterable[tuple[str, str]]) -> dict[str, Any]:
        """Each component's health, as its own `/health` answers it; each consumer group's lag
        per partition; records per second written to each topic and committed by each group;
        and percentiles of the time from collector to indexed, as the good sink measures it."""
        queries.only(given, ())
        async with httpx.AsyncClient(timeout=HEALTH_TIMEOUT_S) as client:
            states, (lags, kafka_problem), (latency, latency_problem) = await asyncio.gather(
                asyncio.gather(
                    *(_health(client, component.health_url) for component in self._components)
                ),
                consumer_lags(self._kafka, self._groups),
                _latency_buckets(client, self._indexed_latency.metrics_url),
            )
        now = PipelineLook(offsets_sample(lags, time.monotonic()), latency)
        earlier = self._earlier
        if earlier is None or now.offsets.taken - earlier.offsets.taken >= MIN_INTERVAL_S:
            self._earlier = now
        found = rates(earlier.offsets if earlier is not None else None, now.offsets)
        indexed = {
            "metrics_url": self._indexed_latency.metrics_url,
            "refresh_interval": self._indexed_latency.refresh_interval,
            "problem": latency_problem,
        }
        if latency is not None:
            indexed |= collector_to_indexed(
                earlier.latency if earlier is not None else None,
                latency,
                now.offsets.taken - earlier.offsets.taken if earlier is not None else None,
            )
        return {
            "lags": [
                {
                    **group,
                    "written_per_s": found.written.get(group["topic"]),
                    "committed_per_s": found.committed.get(group["group_id"]),
                }
                for group in lags
            ],
            "kafka_problem": kafka_problem,
            "rates": {"unit": "records/s", "over_s": found.interval_s, "note": found.note},
            "collector_to_indexed": indexed,
            "components": [
                {**asdict(component), "up": up, "says": says}
                for component, (up, says) in zip(self._components, states, strict=True)
            ],
        }

    async def logs(self, given: Iterable[tuple[str, str]]) -> dict[str, Any]:
        params = queries.only(given, (*RANGE, "size", *queries.LOG_FILTERS))
        span = queries.time_range(params, datetime.now(UTC))
        body = queries.logs_search(span, params, queries.page_size(params, default=100))
        answer = await self._client.search(
            index=self._logs_index, **body, ignore_unavailable=True, allow_no_indices=True
        )
        levels = answer.get("aggregations", {}).get("levels", {}).get("buckets", [])
        return {
            "params": params,
            "from": queries.iso(span.start),
            "to": queries.iso(span.end),
            "total": int(answer["hits"]["total"]["value"]),
            "levels": {str(bucket["key"]): int(bucket["doc_count"]) for bucket in levels},
            "lines": [hit["_source"] for hit in answer["hits"]["hits"]],
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
                *(self._search(kind, queries.tail_search(kind, since, filters)) for kind in kinds)
            )
            fresh = []
            for kind, answer in zip(kinds, answers, strict=True):
                for hit in answer["hits"]["hits"]:
                    key = f"{kind}/{hit['_id']}"
                    if key not in shown:
                        shown[key] = str(hit["_source"].get("@timestamp"))
                        fresh.append(row_of(kind, hit["_source"]))
            yield sorted(fresh, key=lambda row: str(row["time"]))
            # What the next poll can no longer return need not be remembered.
            horizon = queries.iso(since - queries.TAIL_LOOKBACK)
            shown = {key: moment for key, moment in shown.items() if moment >= horizon}
            await asyncio.sleep(TAIL_POLL_S)

    async def _search(self, kind: Kind, body: dict[str, Any]) -> dict[str, Any]:
        answer = await self._client.search(
            index=self._indices[kind], **body, ignore_unavailable=True, allow_no_indices=True
        )
        return dict(answer.body)


async def _health(client: httpx.AsyncClient, url: str) -> tuple[bool, str]:
    """Whether `url` answers 200, and what it says (or why it does not answer)."""
    try:
        answer = await client.get(url)
    except httpx.HTTPError as error:
        return False, f"no answer: {error!r}"
    return answer.status_code == 200, f"{answer.status_code} {answer.text[:300].strip()}"


async def _latency_buckets(
    client: httpx.AsyncClient, url: str
) -> tuple[Buckets | None, str | None]:
    """The good sink's collector-to-indexed histogram, or why it could not be read."""
    try:
        answer = await client.get(url)
        answer.raise_for_status()
        return histogram_buckets(answer.text), None
    except httpx.HTTPError as error:
        return None, f"{url} did not answer: {error!r}"
    except ValueError as error:
        return None, f"{url} is not in the Prometheus text format: {error}"


Handler = Callable[[Iterable[tuple[str, str]]], Awaitable[dict[str, Any]]]


def build_app(console: Console, micro: MicroStore, schema: SchemaLookup) -> Starlette:
    templates = Jinja2Templates(directory=HERE / "templates")

    def page(template: str, answer: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def render(request: Request) -> Response:
            try:
                found = await answer(request.query_params.multi_items())
            except ParameterError as error:
                return templates.TemplateResponse(
                    request, "error.html", {"reason": str(error)}, status_code=400
                )
            return templates.TemplateResponse(request, template, found)

        return render

    def api(answer: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def respond(request: Request) -> Response:
            try:
                return OrjsonResponse(await answer(request.query_params.multi_items()))
            except ParameterError as error:
                return PlainTextResponse(str(error), status_code=400)

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
            return templates.TemplateResponse(
                request, "error.html", {"reason": str(error)}, status_code=400
            )
        return templates.TemplateResponse(request, "tail.html", {"params": params})

    async def home(request: Request) -> Response:
        return RedirectResponse("/events")

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[
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
            Mount("/", micro_app(micro, schema)),
        ]
    )
