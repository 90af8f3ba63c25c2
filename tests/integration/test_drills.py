"""Every drill of `make drill`, through the same harness, on the drills' own Kafka and
Elasticsearch (they stop and start them), with the load and phases scaled down: after each
fault, every event the collector answered 200 is in Elasticsearch exactly once, in the index
it belongs in, and the pipeline drained by itself. The tables go to build/drills-ci.txt."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from devstack.topics import create_topics
from drills import servers as drill_servers
from drills.catalog import DRILLS, Timings
from drills.pipeline import unused_ports
from drills.report import table
from drills.run import DrillResult, run_drill
from drills.servers import Servers
from libs.config import KafkaSettings
from libs.kafka import KafkaSink, KafkaSource
from libs.pipes import Message, Record

BUILD = Path(__file__).resolve().parents[2] / "build"
REPORT = BUILD / "drills-ci.txt"
# Each drill's logs, kept for whoever reads a failure.
LOGS = BUILD / "drills-ci"

SCALED = Timings(
    warmup_s=4,
    settle_s=4,
    # Longer than the consumers' session timeout: every member has to join its group again.
    kafka_down_s=15,
    # Also longer than the drills' max.poll.interval.ms (60 s).
    kafka_long_down_s=75,
    kafka_flap_s=5,
    elasticsearch_down_s=20,
    registry_down_s=5,
    forward_down_s=10,
    recover_timeout_s=120,
    drain_timeout_s=150,
    # A killed member's partitions go to its successor after this long.
    session_timeout_s=10,
    # A consumer left out of its group after an outage is replaced after this long, within
    # the time to recover.
    stall_exit_after_s=30,
)


@pytest.fixture(scope="module")
def own_servers() -> Iterator[Servers]:
    shutil.rmtree(LOGS, ignore_errors=True)
    LOGS.mkdir(parents=True)
    REPORT.write_text("")
    servers = drill_servers.start_own()
    yield servers
    drill_servers.stop_own()


async def drilled(name: str, servers: Servers, work_dir: Path = LOGS) -> DrillResult:
    ports = unused_ports()
    result = await run_drill(DRILLS[name], servers, ports, SCALED, work_dir)
    with REPORT.open("a") as report:
        report.write(table([result]) + "\n\n")
    return result


def assert_passed(result: DrillResult) -> None:
    assert result.error is None, result.error
    assert result.tally is not None
    assert result.tally.answered_200 > 0
    assert result.tally.in_good > 0
    assert (result.tally.missing, result.tally.duplicates, result.tally.misplaced) == (0, 0, 0)
    assert result.recovery_s is not None, result.notes
    assert result.drain_s is not None, result.notes
    if not result.restart_allowed:
        assert result.restarted == [], result.notes
    if result.forward is not None:
        # The outage was felt: the forwarder tried the destination while it answered 503.
        assert result.forward.unavailable_answers > 0, result.notes
    assert result.passed, result.notes


@pytest.mark.parametrize("name", [name for name in DRILLS if name != "kafka-down"])
async def test_the_drill_passes(name: str, own_servers: Servers) -> None:
    assert_passed(await drilled(name, own_servers))


async def test_a_second_kafka_outage_is_recovered_from_like_the_first(
    own_servers: Servers,
) -> None:
    first = await drilled("kafka-down", own_servers, LOGS / "first")
    second = await drilled("kafka-down", own_servers, LOGS / "second")
    assert_passed(first)
    assert_passed(second)


async def eventually(condition: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"no {what} within {timeout_s:.0f} s")
        await asyncio.sleep(0.5)


async def read(source: KafkaSource, count: int) -> list[Record]:
    records: list[Record] = []
    async with asyncio.timeout(60):
        async for batch in source.batches():
            records.extend(batch)
            if len(records) >= count:
                return records
    return records


async def test_a_consumer_health_tells_a_stall_and_an_outage_and_recovers_by_itself(
    own_servers: Servers,
) -> None:
    settings = KafkaSettings(bootstrap_servers=own_servers.kafka_bootstrap, stall_after_s=2)
    topic = f"health-{uuid.uuid4().hex[:8]}"
    await create_topics(own_servers.kafka_bootstrap, [topic], partitions=2)
    sink = KafkaSink(settings)
    await sink.start()
    await sink.write([Message(topic, b"before-%d" % i) for i in range(10)])
    await sink.stop()
    source = KafkaSource(settings, [topic], f"health-{uuid.uuid4().hex[:8]}")
    await source.start()
    try:
        # Records wait, and nobody reads them.
        await eventually(lambda: "records waiting" in (source.health_problem() or ""), "a stall")
        assert "while the group has 10 records waiting" in str(source.health_problem())
        await source.commit(await read(source, 10))
        assert source.health_problem() is None

        await asyncio.to_thread(drill_servers.stop_kafka)
        try:
            await eventually(
                lambda: (source.health_problem() or "").startswith("Kafka has not answered for"),
                "the outage",
            )
        finally:
            await asyncio.to_thread(drill_servers.start_kafka)
        sink = KafkaSink(settings)
        await sink.start()
        await sink.write([Message(topic, b"after-%d" % i) for i in range(10)])
        await sink.stop()
        after = await read(source, 10)
        await source.commit(after)
        assert sorted(record.value for record in after) == sorted(
            b"after-%d" % i for i in range(10)
        )
        await eventually(lambda: source.health_problem() is None, "health again")
    finally:
        await source.stop()
