"""Consumer lag per group and partition: how many records of its topic each consumer group of
the pipeline has not committed yet."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from libs.config import KafkaSettings
from libs.kafka_security import admin_client, aiokafka_options
from services.endpoints import ConsumerGroup

ANSWER_WITHIN_S = 5.0


def partition_lags(
    ends: Mapping[int, int], committed: Mapping[int, int | None]
) -> list[dict[str, Any]]:
    """Per partition, its end offset, the group's committed offset (None: nothing committed,
    the whole partition is owed) and the difference."""
    return [
        {
            "partition": partition,
            "end": end,
            "committed": committed.get(partition),
            "lag": max(0, end - (committed.get(partition) or 0)),
        }
        for partition, end in sorted(ends.items())
    ]


async def consumer_lags(
    settings: KafkaSettings, groups: list[ConsumerGroup]
) -> tuple[list[dict[str, Any]], str | None]:
    """The lag of each group's partitions, and why Kafka could not be asked (or None)."""
    admin = admin_client(settings)
    offsets = AIOKafkaConsumer(**aiokafka_options(settings), client_id=settings.client_id)
    rows: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(ANSWER_WITHIN_S):
            await admin.start()
            await offsets.start()
            for group in groups:
                partitions = await _partitions(admin, group.topic)
                if not partitions:
                    rows.append({**asdict(group), "partitions": [], "missing": True})
                    continue
                topic_partitions = [TopicPartition(group.topic, p) for p in partitions]
                ends = await offsets.end_offsets(topic_partitions)
                committed = await admin.list_consumer_group_offsets(
                    group.group_id, partitions=topic_partitions
                )
                lags = partition_lags(
                    {tp.partition: end for tp, end in ends.items()},
                    {
                        tp.partition: (meta.offset if meta.offset >= 0 else None)
                        for tp, meta in committed.items()
                    },
                )
                rows.append({**asdict(group), "partitions": lags, "missing": False})
    except (KafkaError, TimeoutError, OSError) as error:
        return rows, f"Kafka did not answer: {error!r}"
    finally:
        await offsets.stop()
        await admin.close()
    return rows, None


async def _partitions(admin: AIOKafkaAdminClient, topic: str) -> list[int]:
    """The partitions of `topic`; none if it does not exist."""
    (description,) = await admin.describe_topics([topic])
    if description.get("error_code"):
        return []
    return sorted(int(partition["partition"]) for partition in description["partitions"])
