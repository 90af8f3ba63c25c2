"""A collector and an enricher of their own, on topics of their own, resolving schemas through a
registry whose database has never held a schema: what a new user has after installing Furrow,
with nothing registered by hand. Real clients send to it; what they sent is then counted on
`good` and `bad`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from devstack.process import unused_port
from devstack.topics import create_topics, delete_topics
from tests.integration.processes import Names, start_service
from tests.integration.raw import TopicTail
from tests.integration.registry_servers import empty_registry


@dataclass
class FreshPipeline:
    kafka: str
    names: Names
    collector_port: int
    registry_url: str

    @property
    def collector(self) -> str:
        return f"http://127.0.0.1:{self.collector_port}"


@dataclass
class Outcome:
    """What became of one client's events: the enriched lines and the bad rows that name them."""

    sent: int
    good: list[str] = field(default_factory=list)
    bad: list[dict[str, Any]] = field(default_factory=list)

    @property
    def share_good(self) -> float:
        return len(self.good) / self.sent if self.sent else 0.0

    def reasons(self) -> list[str]:
        """Each bad row's schema and failure, for an assertion message."""
        return [
            f"{row.get('schema')}: {orjson.dumps(row.get('data', {})).decode()[:1500]}"
            for row in self.bad
        ]


@contextlib.contextmanager
def fresh_pipeline(kafka: str, tmp: Path) -> Iterator[FreshPipeline]:
    """The collector, the enricher (with the shipped enrichments) and an empty registry."""
    names = Names()
    topics = [names.topic(kind) for kind in ("raw", "good", "bad")]
    asyncio.run(create_topics(kafka, topics, partitions=2))
    common = {
        "FURROW_KAFKA_BOOTSTRAP_SERVERS": kafka,
        "FURROW_TOPICS_RAW": names.topic("raw"),
        "FURROW_TOPICS_GOOD": names.topic("good"),
        "FURROW_TOPICS_BAD": names.topic("bad"),
    }
    collector_port = unused_port()
    enrich_port = unused_port()
    with empty_registry("sqlite", tmp) as registry_url:
        collector = start_service(
            ["collector"],
            {**common, "FURROW_COLLECTOR_PORT": str(collector_port)},
            health_port=collector_port,
            log=tmp / "collector.log",
        )
        enricher = start_service(
            ["enrich"],
            {
                **common,
                "FURROW_ENRICH_GROUP_ID": f"test-{names.tag}-enrich",
                "FURROW_ENRICH_HEALTH_PORT": str(enrich_port),
                "FURROW_ENRICH_REGISTRY_URL": registry_url,
            },
            health_port=enrich_port,
            log=tmp / "enrich.log",
        )
        try:
            yield FreshPipeline(kafka, names, collector_port, registry_url)
        finally:
            collector.stop()
            enricher.stop()
            asyncio.run(delete_topics(kafka, topics))


async def outcome_of(
    pipeline: FreshPipeline, marker: str, send: Callable[[], int], *, timeout_s: float = 90.0
) -> Outcome:
    """Run `send` (blocking, in a thread), which says how many events it sent, then read `good`
    and `bad` until those that carry `marker` are all accounted for, or `timeout_s` has passed."""
    token = marker.encode()
    async with (
        TopicTail(pipeline.kafka, pipeline.names.topic("good")) as good,
        TopicTail(pipeline.kafka, pipeline.names.topic("bad")) as bad,
    ):
        result = Outcome(sent=await asyncio.to_thread(send))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while len(result.good) + len(result.bad) < result.sent and loop.time() < deadline:
            result.good += [line.decode() for line in await good.fetch() if token in line]
            result.bad += [orjson.loads(row) for row in await bad.fetch() if token in row]
    return result
