"""The log listener and the logs sink as processes: a real logback application, and garbage."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest
from elasticsearch import AsyncElasticsearch

from devstack.indices import wait_for_count
from services.log_listener.framing import TRUNCATED_TAG
from tests.integration.processes import (
    JAVA_HOME,
    Names,
    Service,
    build_java_project,
    health_port,
    listener_port,
    start_service,
)

MAX_LINE_BYTES = 512 * 1024


@dataclass
class Pipeline:
    listener: Service
    port: int
    sink: Service
    alias: str


@pytest.fixture
def pipeline(
    names: Names, kafka_bootstrap: str, elasticsearch_url: str, tmp_path: Path
) -> Iterator[Pipeline]:
    """`furrow logs` on a port of its own into a fresh topic, and `furrow sink logs` from it."""
    port, listener_health, sink_health = listener_port(), health_port(), health_port()
    shared = {
        "FURROW_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "FURROW_ELASTICSEARCH_URL": elasticsearch_url,
        "FURROW_TOPICS_LOGS": names.topic("logs"),
        "FURROW_TOPICS_BAD": names.topic("bad"),
    }
    listener = start_service(
        ["logs"],
        {
            **shared,
            "FURROW_LOGS_PORT": str(port),
            "FURROW_LOGS_HEALTH_PORT": str(listener_health),
            "FURROW_LOGS_MAX_LINE_BYTES": str(MAX_LINE_BYTES),
        },
        health_port=listener_health,
        log=tmp_path / "listener.log",
    )
    sink = start_service(
        ["sink", "logs"],
        {
            **shared,
            "FURROW_SINK_LOGS_INDEX": names.alias("logs"),
            "FURROW_SINK_LOGS_GROUP_ID": names.group("logs"),
            "FURROW_SINK_LOGS_HEALTH_PORT": str(sink_health),
            "FURROW_SINK_LOGS_FLUSH_INTERVAL_S": "0.2",
        },
        health_port=sink_health,
        log=tmp_path / "sink.log",
    )
    yield Pipeline(listener, port, sink, names.alias("logs"))
    assert listener.stop() == 0, listener.output()
    assert sink.stop() == 0, sink.output()


async def test_a_logback_app_logs_ten_thousand_lines_with_stack_traces_and_mdc(
    pipeline: Pipeline, client: AsyncElasticsearch, tmp_path: Path
) -> None:
    classpath = await asyncio.to_thread(build_java_project, "logback-app", tmp_path)
    run_id = f"run-{uuid.uuid4().hex[:8]}"
    app = await asyncio.create_subprocess_exec(
        str(JAVA_HOME / "bin" / "java"),
        f"-Dfurrow.destination=127.0.0.1:{pipeline.port}",
        "-cp",
        ":".join(classpath),
        "furrow.LogbackApp",
        "10000",
        run_id,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(app.communicate(), 60)
    assert app.returncode == 0, output.decode()

    of_run = {"term": {"runId": run_id}}
    assert await wait_for_count(client, pipeline.alias, 10_000, query=of_run) == 10_000
    await client.indices.refresh(index=pipeline.alias)
    found = await client.search(
        index=pipeline.alias,
        query=of_run,
        size=0,
        aggs={
            "levels": {"terms": {"field": "level"}},
            "requests": {"cardinality": {"field": "requestId", "precision_threshold": 20000}},
            "users": {"cardinality": {"field": "userId"}},
            "over_time": {"date_histogram": {"field": "@timestamp", "fixed_interval": "1m"}},
        },
    )
    aggregations = found["aggregations"]
    assert found["hits"]["total"]["value"] == 10_000
    assert {b["key"]: b["doc_count"] for b in aggregations["levels"]["buckets"]} == {
        "INFO": 9000,
        "ERROR": 1000,
    }
    assert aggregations["requests"]["value"] == 10_000
    assert aggregations["users"]["value"] == 17
    assert sum(b["doc_count"] for b in aggregations["over_time"]["buckets"]) == 10_000

    errors = await client.search(
        index=pipeline.alias,
        query={"bool": {"filter": [of_run, {"term": {"requestId": "req-4210"}}]}},
    )
    (hit,) = errors["hits"]["hits"]
    line = hit["_source"]
    assert line["message"] == "order 4210 failed"
    assert line["stack_trace"].startswith(
        "java.lang.IllegalStateException: payment declined for 4210"
    )
    assert "at furrow.LogbackApp.main" in line["stack_trace"]
    assert (line["level"], line["level_value"], line["@version"]) == ("ERROR", 40000, "1")
    assert line["logger_name"] == "furrow.LogbackApp"
    assert line["thread_name"] == "main"
    assert (line["userId"], line["app"], line["host"]) == ("user-11", "logback-app", "127.0.0.1")
    assert line["@timestamp"].endswith("Z")


def mib(service: Service, *, peak: bool = False) -> float:
    return service.memory_bytes(peak=peak) / 2**20


def metric(service: Service, name: str) -> float:
    metrics = httpx.get(service.health_url.replace("/health", "/metrics")).text
    (line,) = [line for line in metrics.splitlines() if line.startswith(f"{name} ")]
    return float(line.split()[1])


async def test_garbage_neither_crashes_the_listener_nor_grows_its_memory(
    pipeline: Pipeline, client: AsyncElasticsearch
) -> None:
    listener, port = pipeline.listener, pipeline.port
    before = mib(listener, peak=True)

    # Binary data, newlines and all.
    with socket.create_connection(("127.0.0.1", port)) as binary:
        binary.sendall(os.urandom(1024 * 1024))
    # A 10 MB line, then a normal one on the same connection.
    with socket.create_connection(("127.0.0.1", port)) as long_line:
        long_line.sendall(b"L" * (10 * 1024 * 1024) + b'\n{"message": "after the long line"}\n')
    # A thousand connections that send nothing, and keep them open.
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(1000)]
    # Half-closed sockets: a partial line, then no more writes; the listener finishes them.
    half_closed = []
    for number in range(50):
        half = socket.create_connection(("127.0.0.1", port))
        half.sendall(b'{"message": "half-closed %d"}' % number)
        half.shutdown(socket.SHUT_WR)
        half_closed.append(half)
    # Connections reset in the middle of a line.
    for _ in range(50):
        reset = socket.create_connection(("127.0.0.1", port))
        reset.sendall(b'{"message": "cut off')
        reset.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        reset.close()

    try:
        for half in half_closed:
            half.settimeout(10)
            assert half.recv(1) == b"", "the listener closes a half-closed connection"
        await asyncio.sleep(1)
        assert metric(listener, "furrow_logs_connections") >= 1000
        assert listener.is_healthy()
        peak = mib(listener, peak=True)
    finally:
        for connection in idle + half_closed:
            connection.close()

    marker = f"still-alive-{uuid.uuid4().hex}"
    with socket.create_connection(("127.0.0.1", port)) as last:
        last.sendall(orjson.dumps({"message": marker}) + b"\n")
    query = {"match_phrase": {"message": marker}}
    assert await wait_for_count(client, pipeline.alias, 1, query=query) == 1
    half_closed_query = {"match_phrase_prefix": {"message": "half-closed"}}
    assert await wait_for_count(client, pipeline.alias, 50, query=half_closed_query) == 50
    truncated = await client.search(
        index=pipeline.alias, query={"term": {"tags": TRUNCATED_TAG}}, size=5
    )
    cut = [h["_source"] for h in truncated["hits"]["hits"] if h["_source"]["message"][0] == "L"]
    assert [len(source["message"]) for source in cut] == [MAX_LINE_BYTES]
    after = await client.count(
        index=pipeline.alias, query={"match_phrase": {"message": "after the long line"}}
    )
    assert after["count"] == 1

    assert listener.is_running()
    # The memory a connection may hold is bounded (a read buffer and one line), whatever it
    # sends: the 10 MB line and a thousand connections cost tens of MiB, not their size.
    assert peak - before < 100, (before, peak)
    print(f"listener peak RSS: {before:.0f} MiB at start, {peak:.0f} MiB through the garbage")
