"""`Sink` and `Source` over Kafka with aiokafka."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from aiokafka.partitioner import DefaultPartitioner

from libs.config import KafkaSettings
from libs.pipes import Message, Record, SinkError

logger = logging.getLogger(__name__)

# The largest record batch built per partition: large batches are what makes writing many small
# messages fast, and this stays below the broker's default message.max.bytes (1 MiB + 12).
MAX_BATCH_BYTES = 512 * 1024


class KafkaSink:
    """Writes with acks=all and idempotence, so an acknowledged write survives a broker restart
    and a retried one is not duplicated.

    A write is built into one record batch per partition (a message with a key goes where Kafka's
    default partitioner puts it, the messages without one of a write go to one partition, the
    next write to the next), which is several times faster than producing message by message.
    """

    def __init__(self, settings: KafkaSettings, *, write_timeout_s: float = 10.0) -> None:
        self._settings = settings
        self._write_timeout_s = write_timeout_s
        self._producer: AIOKafkaProducer | None = None
        self._healthy = False
        self._partitioner = DefaultPartitioner()
        self._rotation = itertools.count()

    @property
    def max_bytes(self) -> int:
        return self._settings.max_request_size

    def is_healthy(self) -> bool:
        return self._healthy

    async def start(self) -> None:
        # aiokafka binds its clients to the running loop, so they are made here, not in __init__.
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._settings.bootstrap_servers,
            client_id=self._settings.client_id,
            acks="all",
            enable_idempotence=True,
            max_request_size=self._settings.max_request_size,
            max_batch_size=min(MAX_BATCH_BYTES, self._settings.max_request_size),
            linger_ms=5,
            request_timeout_ms=int(self._write_timeout_s * 1000),
        )
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()

    async def write(self, messages: Sequence[Message]) -> None:
        if self._producer is None:
            raise SinkError("the Kafka sink was never started")
        producer = self._producer
        try:
            async with asyncio.timeout(self._write_timeout_s):
                deliveries: list[asyncio.Future[object]] = []
                for (topic, partition), group in self._by_partition(
                    messages, {t: await producer.partitions_for(t) for t in _topics(messages)}
                ).items():
                    deliveries.extend(await _send_batches(producer, topic, partition, group))
                await asyncio.gather(*deliveries)
        except (KafkaError, TimeoutError) as error:
            self._healthy = False
            raise SinkError(f"Kafka did not take {len(messages)} message(s): {error!r}") from error
        self._healthy = True

    def _by_partition(
        self, messages: Sequence[Message], partitions: dict[str, set[int]]
    ) -> dict[tuple[str, int], list[Message]]:
        groups: dict[tuple[str, int], list[Message]] = defaultdict(list)
        turn = next(self._rotation)
        candidates = {topic: sorted(ids) for topic, ids in partitions.items()}
        for message in messages:
            ids = candidates[message.topic]
            if message.key is None:
                partition = ids[turn % len(ids)]
            else:
                partition = self._partitioner(message.key, ids, ids)
            groups[message.topic, partition].append(message)
        return groups


def _topics(messages: Sequence[Message]) -> set[str]:
    return {message.topic for message in messages}


async def _send_batches(
    producer: AIOKafkaProducer, topic: str, partition: int, messages: list[Message]
) -> list[asyncio.Future[object]]:
    """Queue `messages` in as few record batches as fit; the futures resolve on acknowledgement."""
    deliveries: list[asyncio.Future[object]] = []
    batch = producer.create_batch()
    for message in messages:
        appended = batch.append(
            key=message.key, value=message.value, timestamp=message.timestamp_ms
        )
        if appended is None:
            # The batch is full (an empty batch takes any message): ship it, start the next.
            deliveries.append(await producer.send_batch(batch, topic, partition=partition))
            batch = producer.create_batch()
            batch.append(key=message.key, value=message.value, timestamp=message.timestamp_ms)
    deliveries.append(await producer.send_batch(batch, topic, partition=partition))
    return deliveries


class KafkaSource:
    """Reads a consumer group's share of `topics`; commits only what `commit()` is given."""

    def __init__(
        self,
        settings: KafkaSettings,
        topics: Sequence[str],
        group_id: str,
        *,
        max_batch: int = 1000,
        poll_timeout_s: float = 1.0,
    ) -> None:
        self._consumer = AIOKafkaConsumer(
            *topics,
            bootstrap_servers=settings.bootstrap_servers,
            client_id=settings.client_id,
            group_id=group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        self._max_batch = max_batch
        self._poll_timeout_ms = int(poll_timeout_s * 1000)
        self._last_poll = 0.0
        self._closing = False

    def is_healthy(self) -> bool:
        # A poll returns at least every poll timeout; three missed ones mean the loop is stuck.
        return time.monotonic() - self._last_poll < 3 * self._poll_timeout_ms / 1000 + 5

    async def start(self) -> None:
        await self._consumer.start()
        self._last_poll = time.monotonic()

    async def stop(self) -> None:
        await self._consumer.stop()

    async def batches(self) -> AsyncIterator[list[Record]]:
        while not self._closing:
            polled = await self._consumer.getmany(
                timeout_ms=self._poll_timeout_ms, max_records=self._max_batch
            )
            self._last_poll = time.monotonic()
            batch = [
                Record(
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                    value=record.value,
                    key=record.key,
                    timestamp_ms=record.timestamp,
                )
                for records in polled.values()
                for record in records
            ]
            if batch:
                yield batch

    async def commit(self, records: Sequence[Record]) -> None:
        offsets: dict[TopicPartition, int] = {}
        for record in records:
            position = TopicPartition(record.topic, record.partition)
            offsets[position] = max(offsets.get(position, 0), record.offset + 1)
        assigned = self._consumer.assignment()
        owned = {position: offset for position, offset in offsets.items() if position in assigned}
        try:
            if owned:
                await self._consumer.commit(owned)
        except (CommitFailedError, IllegalStateError):
            owned = {}
        if len(owned) < len(offsets):
            # The group rebalanced while we worked: another member now owns these partitions and
            # reads the records again. Nothing is lost; the outputs may appear twice.
            logger.warning("commit refused after a rebalance; records will be redelivered")

    def close(self) -> None:
        self._closing = True
