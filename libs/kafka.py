"""`Sink` and `Source` over Kafka with aiokafka."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError

from libs.config import KafkaSettings
from libs.pipes import Message, Record, SinkError

logger = logging.getLogger(__name__)


class KafkaSink:
    """Writes with acks=all and idempotence, so an acknowledged write survives a broker restart
    and a retried one is not duplicated."""

    def __init__(self, settings: KafkaSettings, *, write_timeout_s: float = 10.0) -> None:
        self._settings = settings
        self._write_timeout_s = write_timeout_s
        self._producer: AIOKafkaProducer | None = None
        self._healthy = False

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
                deliveries = [
                    await producer.send(message.topic, message.value, key=message.key)
                    for message in messages
                ]
                await asyncio.gather(*deliveries)
        except (KafkaError, TimeoutError) as error:
            self._healthy = False
            raise SinkError(f"Kafka did not take {len(messages)} message(s): {error!r}") from error
        self._healthy = True


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
        try:
            await self._consumer.commit(offsets)
        except CommitFailedError:
            # The group rebalanced while we worked: another member now owns these partitions and
            # reads the batch again. Nothing is lost; the outputs may appear twice.
            logger.warning("commit refused after a rebalance; batch will be redelivered")

    def close(self) -> None:
        self._closing = True
