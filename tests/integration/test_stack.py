"""Every Furrow service as `make run` starts it: healthy, in its consumer group, and moving
records through the real Kafka into the real Elasticsearch."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import pytest
from elasticsearch import AsyncElasticsearch
from snowplow_tracker import Emitter, PageView, SelfDescribing, SelfDescribingJson, Tracker

from devstack.furrow import Endpoint
from devstack.indices import connected
from devstack.process import REPO_ROOT
from devstack.topics import admin_client, group_state
from libs.config import LoggingSettings
from libs.log import configure_logging
from tests.integration.test_real_trackers import chromium, in_chromium, node_project

__all__ = ["chromium", "node_project"]

LINK_CLICK = "iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1"
CONSUMER_GROUPS = ("furrow-enrich", "furrow-sink-good", "furrow-sink-bad", "furrow-sink-logs")


@pytest.fixture
async def client(
    elasticsearch_url: str, furrow_stack: list[Endpoint]
) -> AsyncIterator[AsyncElasticsearch]:
    async with connected(elasticsearch_url) as es:
        yield es


async def wait_for_hit(
    client: AsyncElasticsearch, index: str, query: dict[str, Any], timeout_s: float = 30.0
) -> dict[str, Any]:
    """The first document matching `query`, polling until it has been indexed."""
    async with asyncio.timeout(timeout_s):
        while True:
            if await client.indices.exists(index=index):
                await client.indices.refresh(index=index)
                found = await client.search(index=index, query=query)
                if hits := found["hits"]["hits"]:
                    return dict(hits[0]["_source"])
            await asyncio.sleep(0.5)


def test_every_service_answers_health_and_metrics(furrow_stack: list[Endpoint]) -> None:
    assert {endpoint.component for endpoint in furrow_stack} == {
        "registry",
        "collector",
        "enrich",
        "sink good",
        "sink bad",
        "sink logs",
        "log listener",
        "console",
    }
    for endpoint in furrow_stack:
        health = httpx.get(endpoint.health_url)
        assert health.status_code == 200, endpoint
        metrics = httpx.get(
            endpoint.health_url.replace("/api/meta/health", "/health").replace(
                "/health", "/metrics"
            )
        )
        assert metrics.status_code == 200, endpoint
        assert "process_resident_memory_bytes" in metrics.text, endpoint


def test_collector_sink_health_is_ok_once_kafka_took_a_write(
    furrow_stack: list[Endpoint],
) -> None:
    collector = next(e for e in furrow_stack if e.component == "collector")
    base = collector.health_url.removesuffix("/health")
    assert httpx.get(f"{base}/robots.txt").text == "User-agent: *\nDisallow: /\n"
    assert httpx.get(f"{base}/i", params={"e": "pv"}).status_code == 200
    assert httpx.get(f"{base}/sink-health").status_code == 200


async def test_consumers_have_joined_their_groups(
    kafka_bootstrap: str, furrow_stack: list[Endpoint]
) -> None:
    joined = {group_id: ("Stable", 1) for group_id in CONSUMER_GROUPS}
    async with admin_client(kafka_bootstrap) as admin:
        for _ in range(60):
            states = {group_id: await group_state(admin, group_id) for group_id in CONSUMER_GROUPS}
            if states == joined:
                break
            await asyncio.sleep(0.5)
    assert states == joined


async def test_a_log_line_over_tcp_is_searchable_in_the_logs_index(
    client: AsyncElasticsearch,
) -> None:
    marker = f"log-{uuid.uuid4()}"
    line = orjson.dumps(
        {
            "@timestamp": "2026-11-23T11:00:00.000+01:00",
            "message": marker,
            "level": "ERROR",
            "logger_name": "test",
        }
    )
    with socket.create_connection(("127.0.0.1", 9600)) as connection:
        # Keep-alive newline, then the line split across two writes.
        connection.sendall(b"\n" + line[:10])
        connection.sendall(line[10:] + b"\r\n")
    document = await wait_for_hit(client, "logs", {"match_phrase": {"message": marker}})
    assert document["level"] == "ERROR"
    assert document["@timestamp"] == "2026-11-23T10:00:00.000Z"
    assert document["host"] == "127.0.0.1"


async def test_a_python_service_ships_its_own_logs_with_logstash_async(
    client: AsyncElasticsearch,
) -> None:
    marker = f"shipped-{uuid.uuid4()}"
    configure_logging("test-shipper", LoggingSettings(ship_to="127.0.0.1:9600"))
    try:
        logging.getLogger("furrow.test").warning(marker)
        handler = logging.getLogger().handlers[-1]
        handler.flush()
        document = await wait_for_hit(client, "logs", {"match_phrase": {"message": marker}})
    finally:
        for handler in logging.getLogger().handlers:
            handler.close()
        logging.getLogger().handlers.clear()
    assert document["level"] == "WARNING"
    assert document["logger_name"] == "furrow.test"
    assert document["service"] == "test-shipper"


async def test_a_tracked_page_view_is_enriched_and_searchable_in_good(
    client: AsyncElasticsearch, furrow_stack: list[Endpoint]
) -> None:
    collector = next(e for e in furrow_stack if e.component == "collector")
    marker = f"stack-{uuid.uuid4()}"
    async with httpx.AsyncClient(base_url=collector.listens) as http:
        response = await http.get(
            "/i", params={"e": "pv", "p": "web", "tv": "t", "aid": marker, "url": "https://x.io/"}
        )
    assert response.status_code == 200
    document = await wait_for_hit(client, "good", {"term": {"app_id": marker}})
    assert document["event"] == "page_view"
    assert document["page_urlhost"] == "x.io"
    assert document["v_etl"].startswith("furrow-enrich-")
    # Typed fields: a date histogram on @timestamp and a terms aggregation on event_name.
    found = await client.search(
        index="good",
        query={"term": {"app_id": marker}},
        size=0,
        aggs={
            "per_minute": {"date_histogram": {"field": "@timestamp", "fixed_interval": "1m"}},
            "names": {"terms": {"field": "event_name"}},
        },
    )
    (bucket,) = [b for b in found["aggregations"]["per_minute"]["buckets"] if b["doc_count"]]
    assert bucket["doc_count"] == 1
    assert found["aggregations"]["names"]["buckets"] == [{"key": "page_view", "doc_count": 1}]


def test_the_console_shows_in_chromium_what_a_real_tracker_sent(
    furrow_stack: list[Endpoint], node_project: Path, chromium: str
) -> None:
    collector = urlsplit(next(e for e in furrow_stack if e.component == "collector").listens)
    console = next(e for e in furrow_stack if e.component == "console").listens
    marker = f"stack-console-{uuid.uuid4()}"
    emitter = Emitter(collector.hostname or "", protocol="http", port=collector.port, batch_size=1)
    tracker = Tracker("stack-test", emitter, app_id=marker)
    for page in ("home", "cart"):
        tracker.track(PageView(page_url=f"https://shop.example.com/{page}"))
    tracker.track(SelfDescribing(SelfDescribingJson(LINK_CLICK, {"targetUrl": "https://x.io"})))
    for element in ("a", "b", "c"):  # no targetUrl: it is required
        tracker.track(SelfDescribing(SelfDescribingJson(LINK_CLICK, {"elementId": element})))
    tracker.track(SelfDescribing(SelfDescribingJson("iglu:com.acme/nowhere/jsonschema/1-0-0", {})))
    tracker.flush()
    deadline = time.monotonic() + 60
    while (
        totals := httpx.get(f"{console}/api/events", params={"last": "1h", "app_id": marker})
        .raise_for_status()
        .json()["totals"]
    ) != {"good": 3, "bad": 4}:
        assert time.monotonic() < deadline, totals
        time.sleep(0.5)

    screenshots = REPO_ROOT / "build" / "console-stack"
    screenshots.mkdir(parents=True, exist_ok=True)
    tail_id = str(uuid.uuid4())
    query = {"app_id": marker, "tail_id": tail_id, "collector": collector.geturl()}
    arguments = (console, str(screenshots), orjson.dumps(query).decode())
    seen = orjson.loads(in_chromium(node_project, chromium, "tracked_views.mjs", *arguments))
    print(orjson.dumps(seen, option=orjson.OPT_INDENT_2).decode())
    assert {name: view["problems"] for name, view in seen.items()} == {name: [] for name in seen}
    assert seen["tail"]["shown"][0] == tail_id
    assert seen["lookup"]["status"] == "good"
    assert seen["events"]["rows"] == 8  # the 7 sent, and the live tail's
    assert seen["events-good"]["rows"] == 4
    assert [group[1:] for group in seen["bad"]["groups"]] == [
        ["schema_violations", LINK_CLICK],
        ["schema_violations", "iglu:com.acme/nowhere/jsonschema/1-0-0"],
    ]
    assert [group[0] for group in seen["bad"]["groups"]] == ["3", "1"]
    assert {"Logs", "Pipeline"} <= set(seen["events"]["nav"])
