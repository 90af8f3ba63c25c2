"""Kafka stopped under a running collector: 503 while it is down, and every event answered 200,
before and after, is in `raw`. Runs its own Kafka and collector so the shared ones stay up."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest

from devstack import kafka
from devstack.environment import environment
from devstack.launcher import ChildProcess, furrow_argv
from devstack.process import free_ports, unused_port
from libs.formats.collector_payload import decode
from tests.integration.raw import TopicTail, tracker_events


class DrillKafka:
    """A Kafka of the drill's own, in its own run directory and on ports nothing else uses."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.port = free_ports(2, consecutive=True)[0]
        self.bootstrap = f"127.0.0.1:{self.port}"

    def _environment(self) -> AbstractContextManager[None]:
        return environment(
            {"FURROW_RUN_DIR": str(self.run_dir), "FURROW_KAFKA_PORT": str(self.port)}
        )

    def start(self) -> None:
        with self._environment():
            kafka.start(partitions=1)

    def stop(self) -> None:
        with self._environment():
            kafka.stop()


@pytest.fixture(scope="module")
def drill_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DrillKafka]:
    own = DrillKafka(tmp_path_factory.mktemp("kafka-drill"))
    own.start()
    try:
        yield own
    finally:
        own.stop()


@pytest.fixture(scope="module")
def drill_collector(
    drill_kafka: DrillKafka, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    port = unused_port()
    collector = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ,
        "FURROW_COLLECTOR_PORT": str(port),
        "FURROW_KAFKA_BOOTSTRAP_SERVERS": drill_kafka.bootstrap,
        "FURROW_COLLECTOR_WRITE_TIMEOUT_S": "2",
    }
    log = tmp_path_factory.mktemp("collector-drill") / "collector.log"
    with ChildProcess(
        "drill collector",
        furrow_argv("collector"),
        environment,
        f"{collector}/health",
        log,
        start_timeout_s=30,
    ):
        yield collector


async def send(client: httpx.AsyncClient, count: int) -> dict[str, int]:
    """Send `count` page views with fresh event ids; their ids and the status each got."""
    statuses: dict[str, int] = {}
    for _ in range(count):
        event_id = str(uuid.uuid4())
        response = await client.get(
            "/i", params={"e": "pv", "p": "web", "tv": "t", "eid": event_id}
        )
        statuses[event_id] = response.status_code
    return statuses


async def test_kafka_down_means_503_and_nothing_answered_200_is_lost(
    drill_kafka: DrillKafka, drill_collector: str
) -> None:
    async with (
        TopicTail(drill_kafka.bootstrap, "raw") as tail,
        httpx.AsyncClient(base_url=drill_collector, timeout=30) as client,
    ):
        before = await send(client, 30)
        assert set(before.values()) == {200}
        assert (await client.get("/sink-health")).status_code == 200

        await asyncio.to_thread(drill_kafka.stop)
        during = await send(client, 3)
        assert set(during.values()) == {503}
        assert (await client.get("/sink-health")).status_code == 503

        await asyncio.to_thread(drill_kafka.start)
        after: dict[str, int] = {}
        async with asyncio.timeout(60):
            while len([s for s in after.values() if s == 200]) < 30:
                after.update(await send(client, 5))
        assert (await client.get("/sink-health")).status_code == 200

        answered_200 = {
            event_id
            for statuses in (before, during, after)
            for event_id, status in statuses.items()
            if status == 200
        }
        stored = await tail.read(lambda values: answered_200 <= stored_ids(values), timeout_s=60)
        assert answered_200 <= stored_ids(stored)


def stored_ids(records: list[bytes]) -> set[str]:
    return {event["eid"] for record in records for event in tracker_events(decode(record))}
