"""Kafka topic administration for the harness (devstack, tests, bench and drills): one admin
client per block, topics made and removed, partitions, end offsets and committed offsets read.

The services build their own (possibly secured) admin client in `libs/kafka_security.py`; this
module serves only the plaintext broker the harness starts.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, UnknownTopicOrPartitionError, for_code


@contextlib.asynccontextmanager
async def admin_client(bootstrap: str, **options: Any) -> AsyncIterator[AIOKafkaAdminClient]:
    """A started admin client of the broker at `bootstrap` (`options` go to aiokafka), closed
    after the block."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **options)
    try:
        await admin.start()
        yield admin
    finally:
        await admin.close()


async def create_topics(bootstrap: str, names: Iterable[str], *, partitions: int) -> None:
    """Topics `names` with `partitions` partitions and one replica; a topic that already exists
    is left as it is, any other refusal is raised."""
    async with admin_client(bootstrap) as admin:
        response = await admin.create_topics([NewTopic(name, partitions, 1) for name in names])
    _raise_errors(response.topic_errors, TopicAlreadyExistsError)


async def delete_topics(bootstrap: str, names: Iterable[str]) -> None:
    """Delete topics `names`; one that does not exist is no error, any other refusal is raised."""
    async with admin_client(bootstrap) as admin:
        response = await admin.delete_topics(list(names))
    _raise_errors(response.topic_error_codes, UnknownTopicOrPartitionError)


@contextlib.asynccontextmanager
async def created_topics(
    bootstrap: str, names: Iterable[str], *, partitions: int
) -> AsyncIterator[list[str]]:
    """The topics `names` (as a list), made for the block and deleted after it."""
    names = list(names)
    await create_topics(bootstrap, names, partitions=partitions)
    try:
        yield names
    finally:
        await delete_topics(bootstrap, names)


async def partitions_of(bootstrap: str, topic: str) -> list[int]:
    """The partition numbers of `topic`."""
    async with admin_client(bootstrap) as admin:
        (description,) = await admin.describe_topics([topic])
    return [partition["partition"] for partition in description["partitions"]]


@contextlib.asynccontextmanager
async def offsets_consumer(bootstrap: str) -> AsyncIterator[AIOKafkaConsumer]:
    """A started consumer of the broker at `bootstrap` in no group, stopped after the block: it
    only answers offsets (it subscribes to nothing and commits nothing)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    try:
        await consumer.start()
        yield consumer
    finally:
        await consumer.stop()


async def end_offsets(
    consumer: AIOKafkaConsumer, topic: str, partitions: Iterable[int]
) -> dict[int, int]:
    """The end offset (that of the next record written) of each of `partitions` of `topic`, by
    partition. It takes the caller's consumer since some callers poll it."""
    ends = await consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
    return {position.partition: offset for position, offset in ends.items()}


async def committed_offsets(admin: AIOKafkaAdminClient, group: str) -> dict[TopicPartition, int]:
    """What `group` has committed, by partition; a partition listed with nothing committed yet
    (offset -1) counts as 0. It takes the caller's client since callers poll it."""
    offsets = await admin.list_consumer_group_offsets(group)
    return {position: max(meta.offset, 0) for position, meta in offsets.items()}


async def wait_until_consumed(
    bootstrap: str, group: str, topic: str, *, timeout_s: float = 60.0
) -> dict[int, int]:
    """The offsets `group` has committed of `topic`, by partition, once they reach the end each
    partition had at the call: every record written before it is then consumed. TimeoutError
    past `timeout_s`, saying what was committed of what."""
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
            raise TimeoutError(f"{group} committed {committed} of {ends} in {topic}") from None


async def group_state(admin: AIOKafkaAdminClient, group_id: str) -> tuple[str, int]:
    """The state and member count of group `group_id` (one group per request: aiokafka 0.14
    cannot decode a DescribeGroups answer that covers several)."""
    (response,) = await admin.describe_consumer_groups([group_id])
    (group,) = response.groups
    error_code, _, state, _, _, members = group[:6]
    if error_code:
        raise for_code(error_code)(group_id)
    return state, len(members)


def _raise_errors(topic_errors: Iterable[tuple[Any, ...]], tolerated: type[Exception]) -> None:
    for topic, code, *_ in topic_errors:
        error = for_code(code)
        if code and error is not tolerated:
            raise error(topic)
