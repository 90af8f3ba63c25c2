"""Two enricher processes in one consumer group share the raw partitions; one is stopped with
SIGTERM mid-stream, the other takes over, and every event sent is on `good`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from devstack.launcher import ChildProcess, furrow_argv
from devstack.process import free_ports
from devstack.topics import admin_client, created_topics, group_state
from libs.config import KafkaSettings
from libs.formats.collector_payload import CollectorPayload, encode
from libs.formats.enriched import to_json
from libs.kafka import KafkaSink
from libs.pipes import Message
from tests.integration.raw import TopicTail

EVENTS = 3000


@pytest.fixture
async def topics(kafka_bootstrap: str) -> AsyncIterator[dict[str, str]]:
    names = {role: f"test-{role}-{uuid.uuid4().hex[:8]}" for role in ("raw", "good", "bad")}
    async with created_topics(kafka_bootstrap, names.values(), partitions=2):
        yield names


@pytest.fixture
def group() -> str:
    return f"test-enrich-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def enrichers(
    kafka_bootstrap: str, topics: dict[str, str], group: str, tmp_path: Path
) -> Iterator[list[ChildProcess]]:
    children = [
        ChildProcess(
            f"enricher on {port}",
            furrow_argv("enrich"),
            {
                **os.environ,
                "FURROW_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
                "FURROW_TOPICS_RAW": topics["raw"],
                "FURROW_TOPICS_GOOD": topics["good"],
                "FURROW_TOPICS_BAD": topics["bad"],
                "FURROW_ENRICH_GROUP_ID": group,
                "FURROW_ENRICH_HEALTH_PORT": str(port),
            },
            f"http://127.0.0.1:{port}/health",
            tmp_path / f"enrich-{port}.log",
        )
        for port in free_ports(2)
    ]
    with contextlib.ExitStack() as started:
        for child in children:
            started.enter_context(child)
        yield children


def raw_page_view(event_id: str) -> bytes:
    query = urlencode({"e": "pv", "p": "web", "tv": "t", "eid": event_id, "url": "https://x.io/"})
    return encode(
        CollectorPayload(
            ip_address="1.2.3.4",
            timestamp_ms=1_795_000_000_000,
            collector="test",
            path="/i",
            querystring=query,
        )
    )


def event_ids(lines: list[bytes]) -> set[str]:
    return {to_json(line.decode())["event_id"] for line in lines}


async def test_a_group_shares_the_work_and_survives_a_member_stopping(
    kafka_bootstrap: str,
    topics: dict[str, str],
    group: str,
    enrichers: list[ChildProcess],
) -> None:
    async with admin_client(kafka_bootstrap) as admin:
        for _ in range(60):
            if (state := await group_state(admin, group)) == ("Stable", 2):
                break
            await asyncio.sleep(0.5)
        assert state == ("Stable", 2)
    sent = [str(uuid.uuid4()) for _ in range(EVENTS)]
    sink = KafkaSink(KafkaSettings(bootstrap_servers=kafka_bootstrap))
    await sink.start()
    async with TopicTail(kafka_bootstrap, topics["good"]) as good:
        try:
            for start in range(0, EVENTS, 500):
                await sink.write(
                    [Message(topics["raw"], raw_page_view(e)) for e in sent[start : start + 500]]
                )
                if start == 1000:
                    # Stop one member mid-stream: it finishes its batch, commits and leaves.
                    enrichers[0].send_signal(signal.SIGTERM)
        finally:
            await sink.stop()
        assert await asyncio.to_thread(enrichers[0].wait, 30) == 0
        lines = await good.read(lambda values: event_ids(values) >= set(sent), timeout_s=90)
    assert event_ids(lines) == set(sent)
