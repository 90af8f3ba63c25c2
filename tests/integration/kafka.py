"""Kafka chores shared by the integration tests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition

from devstack.topics import admin_client, committed_offsets, partitions_of
from libs.config import KafkaSettings
from libs.kafka import KafkaSink
from libs.pipes import Message


async def produce(bootstrap: str, topic: str, values: Iterable[bytes]) -> None:
    sink = KafkaSink(KafkaSettings(bootstrap_servers=bootstrap))
    await sink.start()
    try:
        await sink.write([Message(topic, value) for value in values])
    finally:
        await sink.stop()


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
    committed: dict[int, int] = {}
    async with admin_client(bootstrap) as admin:
        try:
            async with asyncio.timeout(timeout_s):
                while True:
                    committed = {
                        position.partition: offset
                        for position, offset in (await committed_offsets(admin, group)).items()
                        if position.topic == topic
                    }
                    if all(committed.get(p, 0) >= end for p, end in ends.items()):
                        return committed
                    await asyncio.sleep(0.25)
        except TimeoutError:
            raise AssertionError(f"{group} committed {committed} of {ends} in {topic}") from None
