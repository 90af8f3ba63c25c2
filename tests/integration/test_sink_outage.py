"""Elasticsearch stopped and started again under a running good sink: nothing lost, nothing twice.

The drill needs an Elasticsearch of its own (the shared one is never stopped): devstack runs a
second node on a port the system hands out, from `.run/test-es-outage`, where its unpacked
distribution is kept between runs and its data is wiped before each.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from elasticsearch import AsyncElasticsearch

from devstack import elasticsearch
from devstack.environment import environment
from devstack.indices import connected, wait_for_count
from devstack.process import REPO_ROOT, unused_port, wait_until
from devstack.topics import wait_until_consumed
from tests.enriched_events import enriched_lines
from tests.integration.kafka import produce
from tests.integration.processes import Names, health_port, start_service

RUN_DIR = REPO_ROOT / ".run" / "test-es-outage"
BEFORE, DURING = 2000, 2000


@dataclass(frozen=True)
class DrillNode:
    """The second Elasticsearch node: its port and run directory."""

    port: int
    run_dir: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def as_devstack_sees_it(self) -> contextlib.AbstractContextManager[None]:
        """devstack's view of the node while in the block (it reads these at each call)."""
        return environment({"FURROW_ES_PORT": str(self.port), "FURROW_RUN_DIR": str(self.run_dir)})


@pytest.fixture
def node(elasticsearch_url: str, kafka_bootstrap: str) -> Iterator[DrillNode]:
    """A fresh, empty second node; the shared servers' fixtures are settled first so that none of
    them ever sees the drill's environment."""
    drill = DrillNode(unused_port(), RUN_DIR)
    with drill.as_devstack_sees_it():
        elasticsearch.stop()
        shutil.rmtree(RUN_DIR / "elasticsearch" / "data", ignore_errors=True)
        elasticsearch.start()
    try:
        yield drill
    finally:
        with drill.as_devstack_sees_it():
            elasticsearch.stop()


@pytest.fixture
async def client(node: DrillNode) -> AsyncIterator[AsyncElasticsearch]:
    """A client of the drill node (in place of the shared one)."""
    async with connected(node.url) as es:
        yield es


async def test_elasticsearch_stopped_and_restarted_mid_stream_loses_nothing(
    names: Names, kafka_bootstrap: str, node: DrillNode, client: AsyncElasticsearch
) -> None:
    port = health_port()
    sink = start_service(
        ["sink", "good"],
        {
            "FURROW_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "FURROW_ELASTICSEARCH_URL": node.url,
            "FURROW_TOPICS_GOOD": names.topic("good"),
            "FURROW_TOPICS_BAD": names.topic("bad"),
            "FURROW_SINK_GOOD_INDEX": names.alias("good"),
            "FURROW_SINK_GOOD_GROUP_ID": names.group("good"),
            "FURROW_SINK_GOOD_HEALTH_PORT": str(port),
            "FURROW_SINK_GOOD_BULK_MAX_DOCUMENTS": "500",
            # Retries every second at most, so the drill does not wait out a long backoff.
            "FURROW_SINK_GOOD_MAX_BACKOFF_S": "1",
            # Unhealthy after 5 s with records waiting and none indexed and committed.
            "FURROW_KAFKA_STALL_AFTER_S": "5",
        },
        health_port=port,
        log=node.run_dir / "sink-good.log",
    )
    lines = list(enriched_lines(BEFORE + DURING, seed=9))
    alias = names.alias("good")
    try:
        await produce(kafka_bootstrap, names.topic("good"), lines[:BEFORE])
        assert await wait_for_count(client, alias, 500) >= 500
        with node.as_devstack_sees_it():
            elasticsearch.stop()
            await produce(kafka_bootstrap, names.topic("good"), lines[BEFORE:])
            # The node takes longer to come back than the sink takes to notice it is gone.
            restarting = asyncio.create_task(asyncio.to_thread(elasticsearch.start))
            # The sink waits: reading stops once its bulks are all retrying, and it says so.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(20):
                    while sink.is_healthy():  # noqa: ASYNC110 - a health URL, polled
                        await asyncio.sleep(0.5)
            assert not restarting.done(), "the node came back before the sink noticed"
            assert not sink.is_healthy()
            assert sink.is_running()
            await restarting
        assert (
            await wait_for_count(client, alias, BEFORE + DURING, timeout_s=120) == BEFORE + DURING
        )
        await wait_until_consumed(kafka_bootstrap, names.group("good"), names.topic("good"))
        await client.indices.refresh(index=alias)
        assert (await client.count(index=alias))["count"] == BEFORE + DURING
        # Healthy again once its reading resumes, at the latest after the longest retry backoff.
        await asyncio.to_thread(
            wait_until, sink.is_healthy, what="the sink's health after the outage", timeout=45
        )
    finally:
        assert sink.stop() == 0, sink.output()
