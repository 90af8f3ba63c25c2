"""Kafka chores shared by the integration tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from libs.config import KafkaSettings
from libs.kafka import KafkaSink
from libs.pipes import Message


@contextlib.asynccontextmanager
async def created_topics(
    bootstrap: str, names: Iterable[str], *, partitions: int = 1
) -> AsyncIterator[None]:
    """The topics `names`, made for the block and deleted after it."""
    names = list(names)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(n, partitions, 1) for n in names])
    try:
        yield
    finally:
        await admin.delete_topics(names)
        await admin.close()


async def produce(bootstrap: str, topic: str, values: Iterable[bytes]) -> None:
    sink = KafkaSink(KafkaSettings(bootstrap_servers=bootstrap))
    await sink.start()
    try:
        await sink.write([Message(topic, value) for value in values])
    finally:
        await sink.stop()


async def partitions_of(bootstrap: str, topic: str) -> list[int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (description,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return [partition["partition"] for partition in description["partitions"]]


async def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    partitions = [TopicPartition(topic, p) for p in await partitions_of(bootstrap, topic)]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    return {position.partition: offset for position, offset in ends.items()}


async def wait_until_consumed(
    bootstrap: str, group: str, topic: str, *, timeout_s: float = 60.0
) -> dict[int, int]:
    """The group's committed offsets of `topic`, once they reach the end of every partition."""
    ends = await end_offsets(bootstrap, topic)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    committed: dict[int, int] = {}
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                offsets = await admin.list_consumer_group_offsets(group)
                committed = {
                    position.partition: meta.offset
                    for position, meta in offsets.items()
                    if position.topic == topic
                }
                if all(committed.get(p, 0) >= end for p, end in ends.items()):
                    return committed
                await asyncio.sleep(0.25)
    except TimeoutError:
        raise AssertionError(f"{group} committed {committed} of {ends} in {topic}") from None
    finally:
        await admin.close()
