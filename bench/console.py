"""Console part: the time `furrow console` takes to answer its events view (histogram and first
page) and its bad-row groups with 1,000,000 events in `good`, and the time `furrow micro` takes
to start. Loads its own aliases through the sinks' documents, template and bulk indexer."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path

import httpx

from bench.report import Measurement
from devstack import elasticsearch
from devstack.indices import delete_alias_and_indices
from devstack.process import unused_port
from libs.config import ElasticsearchSettings
from libs.formats import badrows
from libs.pipes import Record
from services.sinks.bulks import BulkItem, bulk_item
from services.sinks.config import SinkConfig, SinkKind, sink_defaults
from services.sinks.documents import to_document
from services.sinks.elastic import BulkIndexer, elastic_client, install_template
from tests.enriched_events import START, enriched_lines
from tests.integration.processes import start_service

PART = "console"
GOOD_EVENTS = 1_000_000
BAD_ROWS = 100_000
BULK = 5000
ROUNDS = 5
# tests.enriched_events spaces its events 0.25 s apart from START.
SPAN = timedelta(seconds=GOOD_EVENTS * 0.25)
CHECKOUT = "iglu:com.acme/checkout/jsonschema/1-0-0"


def run() -> list[Measurement]:
    elasticsearch.start()
    tag = uuid.uuid4().hex[:8]
    aliases: dict[SinkKind, str] = {
        "good": f"bench-console-{tag}-good",
        "bad": f"bench-console-{tag}-bad",
    }
    loaded_s = asyncio.run(_load(aliases))
    print(f"loaded {GOOD_EVENTS:,} good events and {BAD_ROWS:,} bad rows in {loaded_s:.0f} s")
    try:
        timings = _time_console(aliases)
    finally:
        asyncio.run(_delete(aliases))
    starts = [_start_micro() for _ in range(ROUNDS)]
    return [
        *(
            Measurement(
                PART,
                name,
                statistics.median(timings[name]),
                "s",
                "<= 1.0",
                f"median of {ROUNDS}, {GOOD_EVENTS:,} good, {BAD_ROWS:,} bad; {note}",
            )
            for name, note in (
                ("events view, whole range", f"{SPAN} of events"),
                ("events view, one hour", "14,400 events in range"),
                ("events view, whole range, app_id filter", "no event matches"),
                ("bad-row groups, whole range", f"{BAD_ROWS:,} rows"),
                ("counts per event name, 1h buckets", "whole range"),
            )
        ),
        Measurement(
            PART,
            "furrow micro start to /micro/all",
            statistics.median(starts),
            "s",
            note=f"median of {ROUNDS}: {', '.join(f'{s:.2f}' for s in starts)}",
        ),
    ]


async def _load(aliases: dict[SinkKind, str]) -> float:
    started = time.monotonic()
    client = elastic_client(_sink_config("good", aliases["good"]))
    try:
        loads: list[tuple[SinkKind, Iterable[bytes]]] = [
            ("good", enriched_lines(GOOD_EVENTS)),
            ("bad", _bad_rows()),
        ]
        for kind, values in loads:
            config = _sink_config(kind, aliases[kind])
            await install_template(client, kind, config)
            indexer = BulkIndexer(
                client, aliases[kind], max_backoff_s=5, settings=config.elasticsearch
            )
            batch: list[BulkItem] = []
            for offset, value in enumerate(values):
                record = Record(aliases[kind], 0, offset, value)
                batch.append(bulk_item(aliases[kind], to_document(kind, record)))
                if len(batch) == BULK:
                    assert not await indexer.index(batch)
                    batch = []
            if batch:
                assert not await indexer.index(batch)
            await client.indices.refresh(index=aliases[kind])
    finally:
        await client.close()
    return time.monotonic() - started


def _bad_rows() -> list[bytes]:
    """Schema violations of two paths and unknown schemas, spread over the good events' span."""
    rows = []
    for number in range(BAD_ROWS):
        moment = START + SPAN * (number / BAD_ROWS)
        error: dict[str, object]
        if number % 3 == 2:
            error = {"error": "ResolutionError", "lookupHistory": []}
            schema = "iglu:com.acme/nowhere/jsonschema/1-0-0"
        else:
            path = "$.total" if number % 3 else "$.currency"
            report = {"message": f"{number} is not valid", "path": path, "keyword": "minimum"}
            error = {"error": "ValidationError", "dataReports": [report]}
            schema = CHECKOUT
        payload = {"enriched": {"app_id": "shop", "event_id": str(uuid.uuid4())}, "raw": {}}
        messages = [{"schemaKey": schema, "error": error}]
        rows.append(badrows.schema_violations("enrich", payload, messages, now=moment))
    return rows


def _time_console(aliases: dict[SinkKind, str]) -> dict[str, list[float]]:
    port = unused_port()
    whole = {"from": START.isoformat(), "to": (START + SPAN).isoformat()}
    hour = {"from": START.isoformat(), "to": (START + timedelta(hours=1)).isoformat()}
    requests = {
        "events view, whole range": ("/events", whole),
        "events view, one hour": ("/events", hour),
        "events view, whole range, app_id filter": ("/events", {**whole, "app_id": "none"}),
        "bad-row groups, whole range": ("/bad", whole),
        "counts per event name, 1h buckets": ("/api/counts", {**whole, "bucket": "1h"}),
    }
    with tempfile.TemporaryDirectory(prefix="furrow-bench-console-") as scratch:
        service = start_service(
            ["console"],
            {
                "FURROW_CONSOLE_PORT": str(port),
                "FURROW_CONSOLE_GOOD_INDEX": aliases["good"],
                "FURROW_CONSOLE_BAD_INDEX": aliases["bad"],
                "FURROW_CONSOLE_REGISTRY_URL": "",
                "FURROW_ELASTICSEARCH_URL": elasticsearch.address(),
            },
            health_port=port,
            log=Path(scratch) / "console.log",
        )
        try:
            timings: dict[str, list[float]] = {name: [] for name in requests}
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
                for _ in range(ROUNDS + 1):
                    for name, (path, params) in requests.items():
                        started = time.monotonic()
                        answer = client.get(path, params=params)
                        took = time.monotonic() - started
                        assert answer.status_code == 200, answer.text
                        timings[name].append(took)
            # The first round warms Elasticsearch's caches and the console's imports.
            return {name: found[1:] for name, found in timings.items()}
        finally:
            service.stop()


def _start_micro() -> float:
    port = unused_port()
    with tempfile.TemporaryDirectory(prefix="furrow-bench-micro-") as scratch:
        started = time.monotonic()
        service = start_service(
            ["micro"], {"FURROW_MICRO_PORT": str(port)}, health_port=port, log=Path(scratch) / "m"
        )
        try:
            while httpx.get(f"http://127.0.0.1:{port}/micro/all", timeout=5).status_code != 200:
                time.sleep(0.02)
            return time.monotonic() - started
        finally:
            service.stop()


async def _delete(aliases: dict[SinkKind, str]) -> None:
    client = elastic_client(_sink_config("good", aliases["good"]))
    try:
        for alias in aliases.values():
            await delete_alias_and_indices(client, alias)
    finally:
        await client.close()


def _sink_config(kind: SinkKind, alias: str) -> SinkConfig:
    return SinkConfig(
        **{**sink_defaults(kind), "index": alias, "refresh_interval": "30s"},
        elasticsearch=ElasticsearchSettings(url=elasticsearch.address()),
    )
