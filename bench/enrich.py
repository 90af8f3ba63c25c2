"""Enricher: events/s of the enricher's core, with the default enrichments, in one process on a
realistic mix, next to a floor measured in the same run (orjson parsing plus compiled validation
of the same events), and the process's RSS after a million events. Then the whole service, one
`furrow enrich` process between Kafka topics: what the core leaves once records are fetched,
outputs written and acknowledged, and offsets committed."""

from __future__ import annotations

import asyncio
import json
import os
import random
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson

from bench.load import PeakRss
from bench.report import Measurement
from bench.servers import BIN, follow_commits, scratch_topics, serving, write_records
from devstack import kafka
from devstack.process import unused_port
from libs.formats.collector_payload import CollectorPayload, encode
from libs.iglu_client import DirectoryRepository, RepositorySettings, Resolver
from libs.memory import freeze_long_lived_objects
from services.enrich.core import Enricher
from services.enrich.enrichments import load_enrichments
from services.enrich.rules import Deduplicator

PART = "enrich"
# The enrichments `make run` uses.
ENRICHMENTS = Path(__file__).resolve().parents[1] / "config" / "enrichments"
EVENTS = 1_000_000
CHUNK = 20_000
EVENTS_PER_POST = 10
# Events the service reads from Kafka: enough for tens of seconds of steady work.
SERVICE_EVENTS = 300_000
# A service that stops committing (crashed, say) fails the bench instead of hanging it.
SERVICE_TIMEOUT_S = 300
PAYLOAD_DATA = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4"
UNSTRUCT = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"
CONTEXTS = "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1"
SCHEMAS: dict[str, dict[str, Any]] = {
    "com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4": {
        "type": "array",
        "minItems": 1,
        "items": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "com.acme/checkout/jsonschema/1-0-0": {
        "type": "object",
        "properties": {
            "order_id": {"type": "string", "format": "uuid"},
            "total": {"type": "number", "minimum": 0},
            "currency": {"type": "string", "enum": ["EUR", "USD", "GBP"]},
            "items": {"type": "array", "items": {"type": "object"}},
        },
        "required": ["order_id", "total", "currency"],
        "additionalProperties": False,
    },
    "com.acme/user/jsonschema/1-0-0": {
        "type": "object",
        "properties": {
            "plan": {"enum": ["free", "pro"]},
            "email": {"type": "string", "format": "email"},
        },
        "required": ["plan"],
    },
    "com.acme/page/jsonschema/1-0-0": {
        "type": "object",
        "properties": {"id": {"type": "string", "format": "uuid"}, "category": {"type": "string"}},
        "required": ["id"],
    },
}


def _sdj(schema: str, data: Any) -> dict[str, Any]:
    return {"schema": f"iglu:{schema}", "data": data}


def _events(rng: random.Random) -> Iterator[dict[str, str]]:
    """Page views, structured events and self-describing events with two entities; one in ten
    invalid (a checkout with a negative total)."""
    for index in range(EVENTS):
        base = {
            "p": "web",
            "tv": "js-3.24.0",
            "aid": "shop",
            "eid": f"5b7a3e2c-1d2f-4c3b-9a8e-{index:012d}",
            "dtm": str(1_795_000_000_000 + index),
            "stm": str(1_795_000_000_100 + index),
            "url": f"https://shop.example.com/products/{index % 500}?utm_source=news",
            "duid": f"a1b2c3d4-e5f6-4a7b-8c9d-{index % 9000:012d}",
            "res": "1920x1080",
            "lang": "fr-FR",
        }
        kind = index % 10
        if kind < 4:
            yield {**base, "e": "pv", "page": "Product"}
        elif kind < 6:
            yield {**base, "e": "se", "se_ca": "shop", "se_ac": "add", "se_va": "2.5"}
        else:
            total = -1 if kind == 9 else rng.randint(1, 500)
            checkout = _sdj(
                "com.acme/checkout/jsonschema/1-0-0",
                {
                    "order_id": "8e5b7c1e-3f4d-4c2b-9a1e-0d9f8e7c6b5a",
                    "total": total,
                    "currency": "EUR",
                    "items": [{"sku": "a"}],
                },
            )
            entities = [
                _sdj("com.acme/user/jsonschema/1-0-0", {"plan": "pro", "email": "a@b.io"}),
                _sdj(
                    "com.acme/page/jsonschema/1-0-0",
                    {"id": "8e5b7c1e-3f4d-4c2b-9a1e-0d9f8e7c6b5a", "category": "x"},
                ),
            ]
            yield {
                **base,
                "e": "ue",
                "ue_pr": orjson.dumps({"schema": UNSTRUCT, "data": checkout}).decode(),
                "co": orjson.dumps({"schema": CONTEXTS, "data": entities}).decode(),
            }


def _raw_records(events: list[dict[str, str]]) -> list[bytes]:
    records = []
    for start in range(0, len(events), EVENTS_PER_POST):
        batch = events[start : start + EVENTS_PER_POST]
        records.append(
            encode(
                CollectorPayload(
                    ip_address="203.0.113.9",
                    timestamp_ms=1_795_000_000_500,
                    collector="furrow-bench",
                    path="/com.snowplowanalytics.snowplow/tp2",
                    body=orjson.dumps({"schema": PAYLOAD_DATA, "data": batch}),
                    content_type="application/json",
                    user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/131.0",
                    network_user_id="c2d3a2a4-6a8f-4bd4-a7c7-0e5e0a0c3b11",
                    headers=("Host: c.example.com", "Content-Type: application/json"),
                )
            )
        )
    return records


def _floor(
    events: list[dict[str, str]], validators: dict[str, jsonschema_rs.Draft4Validator]
) -> float:
    """Events/s of parsing each event's JSON with orjson and validating its self-describing
    JSON with the same compiled validators: what any enricher must at least do."""
    documents = [orjson.dumps(event) for event in events]
    started = time.perf_counter()
    for document in documents:
        event = orjson.loads(document)
        if "ue_pr" in event:
            inner = orjson.loads(event["ue_pr"])["data"]
            validators[inner["schema"][5:]].is_valid(inner["data"])
            for entity in orjson.loads(event["co"])["data"]:
                validators[entity["schema"][5:]].is_valid(entity["data"])
    return len(documents) / (time.perf_counter() - started)


def run() -> list[Measurement]:
    validators = {
        path: jsonschema_rs.Draft4Validator(schema, validate_formats=True)
        for path, schema in SCHEMAS.items()
    }
    stream = _events(random.Random(7))
    floor = _floor([next(stream) for _ in range(CHUNK)], validators)
    with tempfile.TemporaryDirectory() as directory:
        for path, schema in SCHEMAS.items():
            (Path(directory) / path).parent.mkdir(parents=True, exist_ok=True)
            (Path(directory) / path).write_text(json.dumps(schema))
        schemas = RepositorySettings(name="bench schemas", path=Path(directory))
        enricher = Enricher(
            validator=Resolver([DirectoryRepository(schemas)]),
            enrichments=load_enrichments(ENRICHMENTS),
            deduplicator=Deduplicator(600, 200_000),
        )
        freeze_long_lived_objects()
        good = bad = 0
        elapsed = 0.0
        events = _events(random.Random(7))
        with PeakRss(os.getpid()) as rss:
            # Input is built a chunk at a time, untimed, so the RSS is the enricher's own.
            for _ in range(EVENTS // CHUNK):
                records = _raw_records([next(events) for _ in range(CHUNK)])
                now = datetime.now(UTC)
                started = time.perf_counter()
                for record in records:
                    outputs = enricher.enrich(record, now=now)
                    good += len(outputs.good)
                    bad += len(outputs.bad)
                elapsed += time.perf_counter() - started
        service_rate, service_cpu_us = _service(Path(directory))
    rate = EVENTS / elapsed
    return [
        Measurement(PART, "floor (orjson parse + compiled validation)", floor, "events/s"),
        Measurement(
            PART,
            "enricher core, one process",
            rate,
            "events/s",
            ">= 15000",
            note=f"{EVENTS:,} events, 10% invalid",
        ),
        Measurement(PART, "enricher vs floor", rate / floor, "x"),
        Measurement(
            PART,
            "peak RSS over 1M events",
            rss.peak_mb,
            "MB",
            "<= 300",
            note=f"{good:,} good, {bad:,} bad",
        ),
        Measurement(
            PART,
            "enricher service through Kafka, one process",
            service_rate,
            "events/s",
            ">= 15000",
            note=f"{SERVICE_EVENTS:,} events, {service_cpu_us:.0f} us CPU per event",
        ),
    ]


def _service(schemas: Path) -> tuple[float, float]:
    """Events/s of one `furrow enrich` process through SERVICE_EVENTS of the mix waiting in a raw
    topic, from its first commit to its last (joining the consumer group is not enrichment), and
    its CPU microseconds per event over that time."""
    kafka.start()
    stream = _events(random.Random(11))
    records = _raw_records([next(stream) for _ in range(SERVICE_EVENTS)])
    group = f"bench-enrich-{os.getpid()}-{time.monotonic_ns()}"
    health_port = unused_port()
    with (
        scratch_topics("raw", "good", "bad") as topics,
        tempfile.TemporaryDirectory() as directory,
    ):
        asyncio.run(write_records(topics["raw"], records))
        config = Path(directory) / "furrow.toml"
        # Nothing listens at the registry's address: the directory, ranked first, has every schema.
        config.write_text(
            "[enrich]\n"
            f"group_id = {json.dumps(group)}\n"
            f"health_port = {health_port}\n"
            'registry_url = "http://127.0.0.1:9"\n'
            f"enrichments_dir = {json.dumps(str(ENRICHMENTS))}\n"
            "extra_repositories = ["
            f'{{name = "bench schemas", path = {json.dumps(str(schemas))}, priority = -1}}]\n'
        )
        environment = {
            "FURROW_CONFIG": str(config),
            "FURROW_KAFKA_BOOTSTRAP_SERVERS": kafka.address(),
            "FURROW_TOPICS_RAW": topics["raw"],
            "FURROW_TOPICS_GOOD": topics["good"],
            "FURROW_TOPICS_BAD": topics["bad"],
            "FURROW_LOGGING_LEVEL": "WARNING",
        }
        health = f"http://127.0.0.1:{health_port}/health"
        with serving([str(BIN / "furrow"), "enrich"], health, environment) as pid:
            records_per_s, cpu_s_per_record = asyncio.run(
                follow_commits(group, len(records), pid, timeout_s=SERVICE_TIMEOUT_S)
            )
    return records_per_s * EVENTS_PER_POST, cpu_s_per_record / EVENTS_PER_POST * 1e6
