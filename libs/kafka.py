"""`Sink` and `Source` over Kafka with aiokafka."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import (
    CommitFailedError,
    IllegalStateError,
    KafkaError,
    MessageSizeTooLargeError,
)
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer.message_accumulator import BatchBuilder

from libs.config import KafkaSettings
from libs.pipes import Message, Record, SinkError

logger = logging.getLogger(__name__)

# Flushes waiting for Kafka at once. More than one keeps partitions busy in parallel and lets a
# new flush start while another waits for its acknowledgement; few enough that writes still
# gather into large batches.
FLUSHES_IN_FLIGHT = 4
# A lingering flush leaves at once when this many writes wait. Under a load that keeps many
# writes waiting anyway (64 connections each awaiting its answer), lingering would only cap the
# throughput at connections / linger: the collector's GET benchmark fell to 0.48 x its floor with
# a whole 10 ms linger, and stayed at 0.84 x with this; at 3,000 events/s of tracker traffic the
# broker's CPU per event stayed at 32 us (65-68 without lingering).
WRITES_THAT_END_A_LINGER = 4


class KafkaSink:
    """Writes with acks=all and idempotence, so an acknowledged write survives a broker restart
    and a retried one is not duplicated.

    A flush first lingers `linger_s` (or until WRITES_THAT_END_A_LINGER are waiting), and the
    writes that arrive meanwhile travel with it; up to
    FLUSHES_IN_FLIGHT flushes wait for Kafka at a time, and writes that find them all busy travel
    together in the next one: one batch per partition and one timeout for all, which costs far
    less per message than a send per message, and makes batches grow with the load. Unkeyed
    messages of a flush go to one partition chosen at random (as Kafka's sticky partitioner
    does), so the messages of one write stay in order; keyed ones are placed by the key's hash,
    as Java clients place them. A write waits at most two timeouts: a flush in flight, then its
    own, after the linger.
    """

    def __init__(
        self, settings: KafkaSettings, *, write_timeout_s: float = 10.0, linger_s: float = 0.0
    ) -> None:
        self._settings = settings
        self._write_timeout_s = write_timeout_s
        # Worth it only for a sink written from many tasks at once (the collector's requests):
        # a writer that awaits each write before the next would only be slowed.
        self._linger_s = linger_s
        self._producer: AIOKafkaProducer | None = None
        self._healthy = False
        self._pending: list[tuple[Sequence[Message], asyncio.Future[None]]] = []
        self._flushers: set[asyncio.Task[None]] = set()
        # Set while a flush lingers (new writes join it instead of starting another); done
        # when the linger is over.
        self._linger: asyncio.Future[None] | None = None
        self._by_key_hash = DefaultPartitioner()
        self._renewing = asyncio.Lock()
        self._needs_new_producer = False
        self._retiring: set[asyncio.Task[None]] = set()

    @property
    def max_bytes(self) -> int:
        return self._settings.max_request_size

    def is_healthy(self) -> bool:
        return self._healthy

    async def start(self) -> None:
        self._producer = self._new_producer()
        await self._producer.start()

    def _new_producer(self) -> AIOKafkaProducer:
        # aiokafka binds its clients to the running loop, so they are made here, not in __init__.
        return AIOKafkaProducer(
            bootstrap_servers=self._settings.bootstrap_servers,
            client_id=self._settings.client_id,
            acks="all",
            enable_idempotence=True,
            max_request_size=self._settings.max_request_size,
            # The idempotent producer keeps one request in flight per partition, so what one
            # request can carry bounds throughput; aiokafka's 16 KiB default is far too small.
            max_batch_size=self._settings.max_request_size,
            # Flushes hand aiokafka whole batches; lingering would only delay every one of them.
            linger_ms=0,
            request_timeout_ms=int(self._write_timeout_s * 1000),
        )

    async def stop(self) -> None:
        if self._flushers:
            await asyncio.gather(*self._flushers, return_exceptions=True)
        if self._producer is not None:
            await self._producer.stop()
        if self._retiring:
            await asyncio.gather(*self._retiring, return_exceptions=True)

    async def write(self, messages: Sequence[Message]) -> None:
        if self._producer is None:
            raise SinkError("the Kafka sink was never started")
        if not messages:
            return
        written: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((messages, written))
        if self._linger is not None:
            if len(self._pending) >= WRITES_THAT_END_A_LINGER and not self._linger.done():
                self._linger.set_result(None)
        elif len(self._flushers) < FLUSHES_IN_FLIGHT:
            self._flushers.add(asyncio.create_task(self._flush_while_pending()))
        await written

    async def _flush_while_pending(self) -> None:
        try:
            while self._pending and self._linger is None:
                await self._wait_for_linger()
                group, self._pending = self._pending, []
                await self._flush(group)
        finally:
            # Here rather than in a done callback: a write arriving before the callback ran
            # would count this flusher as busy, and with every other one gone, wait for ever.
            self._flushers.discard(asyncio.current_task())

    async def _wait_for_linger(self) -> None:
        if len(self._pending) >= WRITES_THAT_END_A_LINGER:
            return
        loop = asyncio.get_running_loop()
        self._linger = loop.create_future()
        ends = loop.call_later(self._linger_s, _set_unless_done, self._linger)
        try:
            await self._linger
        finally:
            ends.cancel()
            self._linger = None

    async def _flush(self, group: list[tuple[Sequence[Message], asyncio.Future[None]]]) -> None:
        messages = [message for written, _ in group for message in written]
        try:
            async with asyncio.timeout(self._write_timeout_s):
                if self._needs_new_producer:
                    await self._renew_producer()
                await self._send(messages)
        except (KafkaError, TimeoutError) as error:
            self._healthy = False
            self._needs_new_producer = True
            for _, written in group:
                if not written.done():
                    written.set_exception(
                        SinkError(f"Kafka did not take {len(messages)} message(s): {error!r}")
                    )
            return
        self._healthy = True
        for _, written in group:
            if not written.done():
                written.set_result(None)

    async def _renew_producer(self) -> None:
        """Swap in a new producer after a failed write. The old one may keep batches it will
        never deliver, and once a broker has lost track of them its sequence numbers no longer
        match (OutOfOrderSequenceNumber on every later write, found by the Kafka-down drill); a
        new producer gets a new producer id and starts over. Raises while Kafka is unreachable,
        and the next write tries again."""
        async with self._renewing:
            if not self._needs_new_producer:
                return
            producer = self._new_producer()
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            retired, self._producer = self._producer, producer
            self._needs_new_producer = False
        if retired is not None:
            # Its writes were already reported failed; stopping it may wait for their timeouts.
            retiring = asyncio.create_task(_stop_quietly(retired))
            self._retiring.add(retiring)
            retiring.add_done_callback(self._retiring.discard)

    async def _send(self, messages: list[Message]) -> None:
        assert self._producer is not None
        producer = self._producer
        batches: dict[tuple[str, int], BatchBuilder] = {}
        deliveries: list[asyncio.Future[object]] = []
        sticky: dict[str, int] = {}
        for message in messages:
            key, value, timestamp = message.key, message.value, message.timestamp_ms
            # Awaited only when the partition is not known yet: this runs for every message.
            partition = sticky.get(message.topic) if key is None else None
            if partition is None:
                partition = await self._partition(message, sticky)
            place = (message.topic, partition)
            batch = batches.get(place)
            if batch is None:
                batch = batches[place] = producer.create_batch()
            if batch.append(key=key, value=value, timestamp=timestamp) is None:
                deliveries.append(await producer.send_batch(batch, place[0], partition=place[1]))
                batch = batches[place] = producer.create_batch()
                if batch.append(key=key, value=value, timestamp=timestamp) is None:
                    raise MessageSizeTooLargeError(f"{len(value)} bytes to {place[0]}")
        for (topic, partition), batch in batches.items():
            deliveries.append(await producer.send_batch(batch, topic, partition=partition))
        await asyncio.gather(*deliveries)

    async def _partition(self, message: Message, sticky: dict[str, int]) -> int:
        assert self._producer is not None
        partitions = sorted(await self._producer.partitions_for(message.topic))
        if message.key is not None:
            return int(self._by_key_hash(message.key, partitions, partitions))
        sticky[message.topic] = random.choice(partitions)
        return sticky[message.topic]


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
            fetch_min_bytes=settings.fetch_min_bytes,
            fetch_max_wait_ms=settings.fetch_max_wait_ms,
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
            # Positional arguments: this runs for every record, and keywords nearly double its cost.
            batch = [
                Record(
                    record.topic,
                    record.partition,
                    record.offset,
                    record.value,
                    record.key,
                    record.timestamp,
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


def _set_unless_done(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def _stop_quietly(producer: AIOKafkaProducer) -> None:
    try:
        await producer.stop()
    except KafkaError as error:
        logger.info("a retired Kafka producer stopped with %r", error)
