"""KafkaSink and KafkaSource against the real broker, on a topic of their own."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from devstack.topics import created_topics
from libs.config import KafkaSettings
from libs.kafka import WRITES_THAT_END_A_LINGER, KafkaSink, KafkaSource
from libs.pipes import Message, Record


@pytest.fixture
async def topic(kafka_bootstrap: str) -> AsyncIterator[str]:
    name = f"test-{uuid.uuid4().hex[:12]}"
    async with created_topics(kafka_bootstrap, [name], partitions=2):
        yield name


@pytest.fixture
async def sink(kafka_bootstrap: str) -> AsyncIterator[KafkaSink]:
    writer = KafkaSink(KafkaSettings(bootstrap_servers=kafka_bootstrap))
    await writer.start()
    try:
        yield writer
    finally:
        await writer.stop()


async def read(source: KafkaSource, count: int, timeout_s: float = 20.0) -> list[Record]:
    records: list[Record] = []
    async with asyncio.timeout(timeout_s):
        async for batch in source.batches():
            records.extend(batch)
            if len(records) >= count:
                break
    return records


def messages(topic: str, count: int) -> list[Message]:
    return [Message(topic, b"event-%d" % i, key=b"user-%d" % (i % 3)) for i in range(count)]


async def test_written_records_are_read_back_in_order_per_key(
    kafka_bootstrap: str, topic: str, sink: KafkaSink
) -> None:
    assert not sink.is_healthy()
    await sink.write(messages(topic, 30))
    assert sink.is_healthy()
    source = KafkaSource(KafkaSettings(bootstrap_servers=kafka_bootstrap), [topic], "g-order")
    await source.start()
    try:
        records = await read(source, 30)
    finally:
        await source.stop()
    assert sorted(record.value for record in records) == sorted(
        message.value for message in messages(topic, 30)
    )
    for key in (b"user-0", b"user-1", b"user-2"):
        values = [record.value for record in records if record.key == key]
        assert values == sorted(values, key=lambda value: int(value.split(b"-")[1]))


async def test_a_group_resumes_after_what_it_committed_and_rereads_the_rest(
    kafka_bootstrap: str, topic: str, sink: KafkaSink
) -> None:
    settings = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    await sink.write(messages(topic, 10))
    first = KafkaSource(settings, [topic], "g-resume", max_batch=1)
    await first.start()
    try:
        committed = await read(first, 4)
        await first.commit(committed)
    finally:
        await first.stop()
    # Records read but not committed by the first member are delivered again to the next one.
    second = KafkaSource(settings, [topic], "g-resume")
    await second.start()
    try:
        rest = await read(second, 10 - len(committed))
    finally:
        await second.stop()
    assert {r.value for r in committed} | {r.value for r in rest} == {
        m.value for m in messages(topic, 10)
    }
    assert not {r.value for r in committed} & {r.value for r in rest}


async def test_writes_arriving_within_the_linger_share_one_produce_request(
    kafka_bootstrap: str, topic: str
) -> None:
    settings = KafkaSettings(bootstrap_servers=kafka_bootstrap)
    sink = KafkaSink(settings, linger_s=1.0)
    await sink.start()
    loop = asyncio.get_running_loop()
    try:
        started = loop.time()

        async def write_later(index: int) -> float:
            await asyncio.sleep(index * 0.02)
            await sink.write([Message(topic, b"event-%d" % index)])
            return loop.time() - started

        # Fewer writes than end a linger early.
        answered_after_s = await asyncio.gather(*(write_later(index) for index in range(3)))
    finally:
        await sink.stop()
    assert min(answered_after_s) >= 1.0
    source = KafkaSource(settings, [topic], "g-linger")
    await source.start()
    try:
        records = await read(source, 3)
    finally:
        await source.stop()
    # Unkeyed messages of one flush go to one partition.
    assert len({record.partition for record in records}) == 1
    assert sorted(record.value for record in records) == [b"event-0", b"event-1", b"event-2"]


async def test_enough_waiting_writes_end_a_linger_early(kafka_bootstrap: str, topic: str) -> None:
    sink = KafkaSink(KafkaSettings(bootstrap_servers=kafka_bootstrap), linger_s=60.0)
    await sink.start()
    try:
        async with asyncio.timeout(20):
            await asyncio.gather(
                *(
                    sink.write([Message(topic, b"event-%d" % index)])
                    for index in range(WRITES_THAT_END_A_LINGER)
                )
            )
    finally:
        await sink.stop()


async def test_a_fetch_waits_for_more_data_up_to_fetch_max_wait(
    kafka_bootstrap: str, topic: str, sink: KafkaSink
) -> None:
    settings = KafkaSettings(
        bootstrap_servers=kafka_bootstrap, fetch_min_bytes=1024 * 1024, fetch_max_wait_ms=1500
    )
    source = KafkaSource(settings, [topic], "g-fetch-wait")
    await source.start()
    loop = asyncio.get_running_loop()
    try:
        await sink.write([Message(topic, b"alone")])
        written_at = loop.time()
        records = await read(source, 1)
        waited_s = loop.time() - written_at
    finally:
        await source.stop()
    assert [record.value for record in records] == [b"alone"]
    # Far less than a megabyte arrived, so the broker held the fetch until its wait ran out.
    assert waited_s >= 1.0


async def test_a_source_never_started_reaches_no_broker() -> None:
    # A service whose sink fails to start never starts its source; a librdkafka client made and
    # left open then crashed the interpreter at its exit, now and then, instead of exiting 2.
    connections = 0

    def count(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        writer.close()

    listener = await asyncio.start_server(count, "127.0.0.1", 0)
    async with listener:
        port = listener.sockets[0].getsockname()[1]
        KafkaSource(KafkaSettings(bootstrap_servers=f"127.0.0.1:{port}"), ["t"], "g-never")
        await asyncio.sleep(2.0)
    assert connections == 0
