"""`furrow replay` end to end: an event whose schema the registry lacks goes to `bad`; once the
schema is registered, replaying `schema_violations` puts it into `good`, under its own event id.
Real enricher and sinks on the shared Kafka and Elasticsearch, with topics and aliases of their
own, and a registry of the test's own (SQLite)."""

from __future__ import annotations

import asyncio
import base64
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import orjson
import pytest
from elasticsearch import AsyncElasticsearch

from devstack.indices import wait_for_count
from devstack.process import REPO_ROOT
from devstack.registry import running_registry
from devstack.topics import created_topics
from libs.formats.collector_payload import CollectorPayload, encode
from tests.integration.kafka import produce
from tests.integration.processes import Names, Service, health_port, start_service
from tests.integration.registry_servers import SUPER_KEY, free_port, fresh_database

VENDOR = "com.test.replay"
UNSTRUCT_EVENT = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"
SCHEMA = {
    "$schema": "http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#",
    "description": "Registered only after its first event failed",
    "self": {"vendor": VENDOR, "name": "signup", "format": "jsonschema", "version": "1-0-0"},
    "type": "object",
    "properties": {"plan": {"type": "string"}},
    "required": ["plan"],
}


@pytest.fixture
def registry_url(tmp_path: Path) -> Iterator[str]:
    settings = {"FURROW_REGISTRY_SUPER_KEY": SUPER_KEY}
    with (
        fresh_database("sqlite", tmp_path, None) as database,
        running_registry(
            free_port(),
            {**settings, "FURROW_REGISTRY_DATABASE_URL": database},
            tmp_path / "registry.log",
        ) as url,
    ):
        yield url


@pytest.fixture
async def raw_topic(names: Names, kafka_bootstrap: str) -> AsyncIterator[str]:
    topic = names.topic("raw")
    async with created_topics(kafka_bootstrap, [topic], partitions=2):
        yield topic


def settings(names: Names, raw_topic: str, kafka_bootstrap: str) -> dict[str, str]:
    return {
        "FURROW_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "FURROW_TOPICS_RAW": raw_topic,
        "FURROW_TOPICS_GOOD": names.topic("good"),
        "FURROW_TOPICS_BAD": names.topic("bad"),
    }


def start_enricher(environment: dict[str, str], names: Names, registry: str, log: Path) -> Service:
    port = health_port()
    return start_service(
        ["enrich"],
        {
            **environment,
            "FURROW_ENRICH_GROUP_ID": f"test-{names.tag}-enrich",
            "FURROW_ENRICH_HEALTH_PORT": str(port),
            "FURROW_ENRICH_REGISTRY_URL": registry,
        },
        health_port=port,
        log=log,
    )


def start_sink(kind: str, environment: dict[str, str], names: Names, es: str, log: Path) -> Service:
    port = health_port()
    prefix = f"FURROW_SINK_{kind.upper()}"
    return start_service(
        ["sink", kind],
        {
            **environment,
            "FURROW_ELASTICSEARCH_URL": es,
            f"{prefix}_INDEX": names.alias(kind),
            f"{prefix}_GROUP_ID": names.group(kind),
            f"{prefix}_HEALTH_PORT": str(port),
        },
        health_port=port,
        log=log,
    )


def signup(event_id: str) -> bytes:
    envelope = {
        "schema": UNSTRUCT_EVENT,
        "data": {"schema": f"iglu:{VENDOR}/signup/jsonschema/1-0-0", "data": {"plan": "pro"}},
    }
    parameters = {
        "e": "ue",
        "p": "web",
        "tv": "js-3",
        "eid": event_id,
        "ue_px": base64.urlsafe_b64encode(orjson.dumps(envelope)).decode(),
    }
    return raw_get(parameters)


async def furrow_replay(
    environment: dict[str, str], bad_type: str
) -> subprocess.CompletedProcess[str]:
    """`furrow replay --type BAD_TYPE` run to its end with `environment` only."""
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "services.cli", "replay", "--type", bad_type],
        env={**environment, "PATH": "/usr/bin:/bin"},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def raw_get(parameters: dict[str, str]) -> bytes:
    return encode(
        CollectorPayload(
            ip_address="203.0.113.7",
            timestamp_ms=1_795_000_000_000,
            collector="test-collector",
            path="/i",
            querystring=urlencode(parameters),
            user_agent="Mozilla/5.0",
        )
    )


async def test_a_missing_schema_registered_later_then_replay_puts_the_event_into_good(
    names: Names,
    raw_topic: str,
    kafka_bootstrap: str,
    elasticsearch_url: str,
    registry_url: str,
    client: AsyncElasticsearch,
    tmp_path: Path,
) -> None:
    environment = settings(names, raw_topic, kafka_bootstrap)
    event_id = str(uuid.uuid4())
    not_base64 = {"e": "ue", "p": "web", "tv": "js-3", "eid": str(uuid.uuid4()), "ue_px": "%%"}
    services = [
        start_sink(kind, environment, names, elasticsearch_url, tmp_path / f"sink-{kind}.log")
        for kind in ("good", "bad")
    ]
    enricher = start_enricher(environment, names, registry_url, tmp_path / "enrich.log")
    try:
        await produce(kafka_bootstrap, raw_topic, [signup(event_id), raw_get(not_base64)])
        assert await wait_for_count(client, names.alias("bad"), 2) == 2
        # No restart and no wait: the running enricher uses the schema once it is registered.
        registered = await asyncio.to_thread(
            httpx.put,
            f"{registry_url}/api/schemas/{VENDOR}/signup/jsonschema/1-0-0",
            params={"isPublic": "true"},
            json=SCHEMA,
            headers={"apikey": SUPER_KEY},
        )
        assert registered.status_code == 201, registered.text

        replay = await furrow_replay(environment, "schema_violations")

        assert replay.returncode == 0, replay.stderr
        assert replay.stdout.splitlines() == ["read 2, matched 1, replayed 1, not replayable 0"]
        assert "replaying" in replay.stderr  # the progress bar
        assert await wait_for_count(client, names.alias("good"), 1) == 1
        stored = await client.get(index=names.alias("good"), id=event_id)
        assert stored["_source"]["event_id"] == event_id
        # Rebuilt from the bad row: the user agent and collector time are the original request's.
        assert stored["_source"]["useragent"] == "Mozilla/5.0"
        assert stored["_source"]["collector_tstamp"] == "2026-11-18T11:06:40.000Z"
    finally:
        for service in [enricher, *services]:
            assert service.stop() == 0, service.output()
