"""Kafka chores shared by the integration tests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from devstack.topics import (
    admin_client,
    committed_offsets,
    end_offsets,
    offsets_consumer,
    partitions_of,
)
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


async def wait_until_consumed(
    bootstrap: str, group: str, topic: str, *, timeout_s: float = 60.0
) -> dict[int, int]:
    """The group's committed offsets of `topic`, once they reach the end of every partition."""
    partitions = await partitions_of(bootstrap, topic)
    async with offsets_consumer(bootstrap) as consumer:
        ends = await end_offsets(consumer, topic, partitions)
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
