"""`Sink` and `Source` over Kafka: the sink with aiokafka, the source with confluent-kafka."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, MessageSizeTooLargeError
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer.message_accumulator import BatchBuilder
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition
from confluent_kafka import KafkaError as LibrdkafkaError
from confluent_kafka import Message as KafkaMessage

from libs.batching import BatchPolicy
from libs.config import ConfigError, KafkaSettings
from libs.kafka_security import (
    KafkaSetupError,
    aiokafka_options,
    check_connection,
    librdkafka_options,
    librdkafka_setup_problem,
    settings_refused,
)
from libs.offsets import CommitLedger
from libs.pipes import Message, Record, SinkError
from libs.stall import Lag, StallWatch

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Flushes waiting for Kafka at once. More than one keeps partitions busy in parallel and lets a
# new flush start while another waits for its acknowledgement; few enough that writes still
# gather into large batches.
FLUSHES_IN_FLIGHT = 4
# A lingering flush leaves at once when this many writes wait. Under a load that keeps many
# writes waiting anyway (many connections each awaiting its answer), lingering would only cap the
# throughput at connections / linger, while under tracker traffic the writes still gather enough
# to spare the broker most of its per-request CPU (figures in docs/performance.md).
WRITES_THAT_END_A_LINGER = 4
# What a source's librdkafka fetches ahead of the records asked for, in KiB.
PREFETCHED_KIB = 16 * 1024
# How long a source asks for the committed offsets of partitions just assigned to it.
ASSIGN_LOOKUP_S = 30.0
# How often a source measures its group's lag, and how long it waits for each answer.
LAG_MEASURED_EVERY_S = 5.0
LAG_TIMEOUT_S = 5.0
# How long a new client, made to tell an unreachable Kafka from a broken consumer, waits.
PROBE_TIMEOUT_S = 3.0


class KafkaSink:
    """Writes with acks=all and idempotence, so an acknowledged write survives a broker restart
    and a retried one is not duplicated.

    A flush first lingers `linger_s` (or until WRITES_THAT_END_A_LINGER are waiting, or a
    request's worth of bytes: its BatchPolicy), and the writes that arrive meanwhile travel
    with it; up to
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
        self._flushes = BatchPolicy(
            max_bytes=settings.max_request_size,
            max_age_s=linger_s,
            max_count=WRITES_THAT_END_A_LINGER,
        )
        self._producer: AIOKafkaProducer | None = None
        self._healthy = False
        self._pending: list[tuple[Sequence[Message], asyncio.Future[None]]] = []
        self._pending_bytes = 0
        self._flushers: set[asyncio.Task[None]] = set()
        # Set while a flush lingers (new writes join it instead of starting another); done
        # when the linger is over.
        self._linger: asyncio.Future[None] | None = None
        self._by_key_hash = DefaultPartitioner()
        self._renewing = asyncio.Lock()
        self._needs_new_producer = False
        self._retiring: set[asyncio.Task[None]] = set()
        # What the brokers have against the settings (a rotated password, say), looked for
        # after a failed write; None once a write goes through.
        self._refused: str | None = None
        self._diagnosis: asyncio.Task[None] | None = None

    @property
    def max_bytes(self) -> int:
        return self._settings.max_request_size

    def is_healthy(self) -> bool:
        return self._healthy

    def health_problem(self) -> str | None:
        """Why the brokers refuse this producer's settings, while they do; a write failing for
        any other reason is told by `is_healthy()` alone."""
        return self._refused

    async def start(self) -> None:
        """Raises KafkaSetupError when the brokers refuse the settings."""
        await asyncio.to_thread(check_connection, self._settings)
        self._producer = self._new_producer()
        await self._producer.start()

    def _new_producer(self) -> AIOKafkaProducer:
        # aiokafka binds its clients to the running loop, so they are made here, not in __init__.
        # Made anew after a failed write, with secrets read anew: a rotated password is taken up.
        return AIOKafkaProducer(
            **aiokafka_options(self._settings),
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
        if self._diagnosis is not None:
            # Its answer has no one left to tell.
            self._diagnosis.cancel()
        # Every write is answered by now: what a producer still holds was reported failed, and
        # brokers that refuse it (a rotated password) would keep it, and this process, forever.
        if self._producer is not None:
            self._retiring.add(asyncio.create_task(_stop_quietly(self._producer)))
        if self._retiring:
            _, left = await asyncio.wait(self._retiring, timeout=self._write_timeout_s)
            if left:
                logger.warning("Kafka producer stopped with writes it could not deliver")
                for stopping in left:
                    stopping.cancel()

    async def write(self, messages: Sequence[Message]) -> None:
        if self._producer is None:
            raise SinkError("the Kafka sink was never started")
        if not messages:
            return
        written: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((messages, written))
        self._pending_bytes += sum(len(message.value) for message in messages)
        if self._linger is not None:
            if self._pending_is_full() and not self._linger.done():
                self._linger.set_result(None)
        elif len(self._flushers) < FLUSHES_IN_FLIGHT:
            self._flushers.add(asyncio.create_task(self._flush_while_pending()))
        await written

    def _pending_is_full(self) -> bool:
        return self._flushes.is_full(self._pending_bytes, len(self._pending))

    async def _flush_while_pending(self) -> None:
        try:
            while self._pending and self._linger is None:
                await self._wait_for_linger()
                group, self._pending, self._pending_bytes = self._pending, [], 0
                await self._flush(group)
        finally:
            # Here rather than in a done callback: a write arriving before the callback ran
            # would count this flusher as busy, and with every other one gone, wait for ever.
            self._flushers.discard(asyncio.current_task())

    async def _wait_for_linger(self) -> None:
        if self._pending_is_full():
            return
        loop = asyncio.get_running_loop()
        self._linger = loop.create_future()
        ends = loop.call_later(self._flushes.max_age_s, _set_unless_done, self._linger)
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
            if self._diagnosis is None or self._diagnosis.done():
                self._diagnosis = asyncio.create_task(self._diagnose())
            for _, written in group:
                if not written.done():
                    written.set_exception(
                        SinkError(f"Kafka did not take {len(messages)} message(s): {error!r}")
                    )
            return
        self._healthy = True
        self._refused = None
        for _, written in group:
            if not written.done():
                written.set_result(None)

    async def _diagnose(self) -> None:
        # aiokafka says only that it could not connect or deliver: librdkafka tells whether the
        # brokers refuse the settings themselves.
        refused = await asyncio.to_thread(settings_refused, self._settings)
        if not self._healthy:  # unless a write went through meanwhile
            self._refused = refused

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


class GroupUnavailable(Exception):
    """The brokers answer, but the consumer's group coordinator does not."""


class ConsumerStuck(RuntimeError):
    """The consumer asks in vain for records that Kafka holds for it; only a new process helps."""


class KafkaSource:
    """Reads a consumer group's share of `topics`; commits only what `commit()` is given.

    librdkafka (confluent-kafka) rather than aiokafka: aiokafka decodes fetch responses and builds
    a Python object per record in Python, a large share of the good sink's CPU (see
    docs/performance.md). librdkafka does both in C on a thread of its own; its calls block, so they
    run on threads of ours.

    Made to come back by itself from a broker outage (see `libs.offsets` for the commit rules):
    - Partitions are assigned with the group's committed offsets, read here, so that reading
      starts without librdkafka's own lookup of them, which a coordinator still loading after a
      restart can leave unanswered for ever (librdkafka issue 5586).
    - A commit that fails is tried again every second until Kafka takes it.
    - `health_problem()` says when the group has records waiting and nothing moves. A consumer
      that asks in vain, with Kafka answering, for records waiting in its own partitions, with
      no partition while its group has records waiting, or with no answer from its group's
      coordinator (see `libs.stall`), is replaced by a new one, as a
      process restart would; stuck again, it raises ConsumerStuck from `batches()`, so that its
      process exits and is started again.
    """

    def __init__(
        self,
        settings: KafkaSettings,
        topics: Sequence[str],
        group_id: str,
        *,
        max_batch: int = 1000,
        poll_timeout_s: float = 1.0,
    ) -> None:
        self._settings = settings
        self._config = {
            "client.id": settings.client_id,
            "group.id": group_id,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": settings.session_timeout_ms,
            "max.poll.interval.ms": settings.max_poll_interval_ms,
            "fetch.min.bytes": settings.fetch_min_bytes,
            "fetch.wait.max.ms": settings.fetch_max_wait_ms,
            # What librdkafka fetches ahead of us; its default, 64 MiB, would dwarf the rest
            # of a sink's memory.
            "queued.max.messages.kbytes": PREFETCHED_KIB,
            # How soon it looks again once we have taken from a full queue; by default a
            # second, for which a sink reading a backlog stood still.
            "fetch.queue.backoff.ms": 10,
            "on_commit": self._on_commit,
            "error_cb": self._on_error,
        }
        # Made by start(), once the brokers take the settings: a librdkafka client made and never
        # closed (when a sink, started first, fails to start, say) crashes the interpreter's exit.
        self._consumer: Consumer
        self._topics = list(topics)
        # The rebalance and commit callbacks run on the polling thread, inside a poll.
        self._polling = ThreadPoolExecutor(1, thread_name_prefix="kafka-poll")
        # Touched by the polling thread and the event loop.
        self._ledger = CommitLedger()
        self._ledger_lock = threading.Lock()
        self._watch = StallWatch(
            stall_after_s=settings.stall_after_s,
            exit_after_s=settings.stall_exit_after_s,
            poll_gap_s=2 * poll_timeout_s + 1,
        )
        self._watching: asyncio.Task[None] | None = None
        self._max_batch = max_batch
        self._poll_timeout_s = poll_timeout_s
        self._closing = False
        # Why the consumer is to be replaced by a new one, and why the process is to end.
        self._renewal: str | None = None
        self._renewed = False
        self._stuck: str | None = None
        # What the brokers last had against the settings (a rotated password, say): set by
        # librdkafka's error callback, cleared once Kafka answers again.
        self._refused: str | None = None
        # Set by the error callback, on the polling thread: log in with the password file's.
        self._password_refused = False
        self._lag: int | None = None

    def health_problem(self) -> str | None:
        return self._refused or self._watch.problem(time.monotonic())

    def lag(self) -> int | None:
        """Records of `topics` the group has not committed, as last measured; None until the
        first measure."""
        return self._lag

    def _new_consumer(self) -> Consumer:
        # The secrets read anew: a consumer replaced after a rotation logs in with the new ones.
        config = {**librdkafka_options(self._settings), **self._config}
        return Consumer(config, logger=logging.getLogger("librdkafka"))

    def _subscribe(self) -> None:
        self._consumer.subscribe(
            self._topics,
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_lost,
        )

    async def start(self) -> None:
        """Raises KafkaSetupError when the brokers refuse the settings."""
        await asyncio.to_thread(check_connection, self._settings)
        self._consumer = self._new_consumer()
        await self._call(self._polling, self._subscribe)
        self._watch.started(time.monotonic())
        self._watching = asyncio.create_task(self._watch_over())

    async def stop(self) -> None:
        if self._watching is not None:
            self._watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watching
        # Leaves the group at once, so that its partitions go to the other members now; the
        # revocation on the way commits what is still owed, and closing waits for the commits
        # under way. On the polling thread: never while a poll is under way.
        await self._call(self._polling, self._consumer.close)
        self._polling.shutdown()

    async def batches(self) -> AsyncIterator[list[Record]]:
        while not self._closing:
            if self._renewal is not None:
                await self._call(self._polling, self._renew_consumer)
            polled = await self._call(self._polling, self._poll)
            self._watch.polled(time.monotonic(), records=len(polled))
            if self._stuck is not None:
                raise ConsumerStuck(self._stuck)
            batch: list[Record] = []
            for message in polled:
                error = message.error()
                if error is not None:
                    # Per-partition conditions librdkafka recovers from by itself (a topic not
                    # there yet, a leader moving); fatal ones also raise from consume().
                    logger.warning("Kafka reported %s", error)
                    continue
                topic, partition, offset = message.topic(), message.partition(), message.offset()
                # Set on every message that carries no error.
                assert topic is not None and partition is not None and offset is not None
                _, timestamp_ms = message.timestamp()
                # A record without a value (a tombstone) reads as empty: a bad row downstream.
                value = message.value() or b""
                batch.append(
                    Record(topic, partition, offset, value, message.key(), max(timestamp_ms, 0))
                )
            if batch:
                yield batch

    def _poll(self) -> list[KafkaMessage]:
        """What librdkafka holds, up to max_batch; waits up to the poll timeout only while it holds
        nothing. (consume() waits for max_batch messages in full: while a partition's next fetch
        was on its way it stalled for its whole timeout.)"""
        if self._password_refused:
            self._log_in_anew()
        polled = self._consumer.consume(self._max_batch, 0)
        if polled:
            return polled
        polled = self._consumer.consume(1, self._poll_timeout_s)
        if polled and self._max_batch > 1:
            polled += self._consumer.consume(self._max_batch - 1, 0)
        return polled

    async def commit(self, records: Sequence[Record]) -> None:
        offsets: dict[tuple[str, int], int] = {}
        for record in records:
            position = (record.topic, record.partition)
            offsets[position] = max(offsets.get(position, 0), record.offset + 1)
        with self._ledger_lock:
            self._ledger.owe(offsets)
        self._commit_owed()

    def close(self) -> None:
        self._closing = True

    def _commit_owed(self) -> None:
        """Send every offset owed, without waiting: Kafka's answer comes to `_on_commit`, and
        what it refuses stays owed, sent again a second later. (A commit that waits holds up
        its caller for as long as the group has no coordinator, which after a broker restart
        can be minutes.)"""
        with self._ledger_lock:
            due = self._ledger.due()
        if not due:
            return
        try:
            self._consumer.commit(
                offsets=[TopicPartition(t, p, offset) for (t, p), offset in due.items()],
                asynchronous=True,
            )
        except KafkaException as error:
            logger.warning("commit not sent; tried again shortly", extra={"error": str(error)})

    def _on_commit(self, error: LibrdkafkaError | None, partitions: list[TopicPartition]) -> None:
        if error is not None:
            # A rebalance under way, or the coordinator out of reach or still loading.
            logger.warning("commit failed; tried again shortly", extra={"error": str(error)})
            return
        acknowledged = {(p.topic, p.partition): p.offset for p in partitions if p.error is None}
        with self._ledger_lock:
            self._ledger.acknowledged(acknowledged)
        if acknowledged:
            self._watch.progressed(time.monotonic())

    def _renew_consumer(self) -> None:
        """Replace the consumer by a new one, which joins the group afresh, as a new process
        would. The old one leaves the group on a thread of its own: a consumer in this state may
        take long to close."""
        logger.warning("consumer replaced by a new one", extra={"reason": self._renewal})
        retired, self._consumer = self._consumer, self._new_consumer()
        self._renewal = None
        self._renewed = True
        with self._ledger_lock:
            self._ledger.revoked(list(self._ledger.committed()))
        self._subscribe()
        self._watch.started(time.monotonic())
        threading.Thread(target=retired.close, name="kafka-retired", daemon=True).start()

    def _on_error(self, error: LibrdkafkaError) -> None:
        if (refused := librdkafka_setup_problem(self._settings, error)) is not None:
            self._refused = refused
        if error.code() == LibrdkafkaError._AUTHENTICATION:
            self._password_refused = True

    def _log_in_anew(self) -> None:
        """librdkafka keeps retrying by itself; a refused password may have been rotated, so the
        next try takes the one in the password file now. (Not from the error callback itself:
        confluent-kafka aborts the process when a callback calls back into the client.)"""
        self._password_refused = False
        if self._settings.sasl_password_file is None or self._settings.sasl_username is None:
            return
        try:
            password = self._settings.sasl_password_value()
        except ConfigError as unreadable:
            logger.error("SASL password not read again", extra={"error": str(unreadable)})
            return
        if password is not None:
            self._consumer.set_sasl_credentials(self._settings.sasl_username, password)

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        if consumer is not self._consumer:
            return
        committed = self._committed_offsets(partitions)
        if committed is None:
            # librdkafka looks the offsets up itself; should that never end, the watch sees it.
            logger.warning("partitions assigned without their committed offsets")
            consumer.assign(partitions)
            with self._ledger_lock:
                self._ledger.assigned({(p.topic, p.partition): -1 for p in partitions})
            return
        for found in committed:
            found.offset = found.offset if found.offset >= 0 else OFFSET_BEGINNING
        consumer.assign(committed)
        with self._ledger_lock:
            self._ledger.assigned({(p.topic, p.partition): max(p.offset, -1) for p in committed})
        logger.info(
            "partitions assigned",
            extra={"partitions": [f"{p.topic}/{p.partition}@{p.offset}" for p in committed]},
        )

    def _committed_offsets(self, partitions: list[TopicPartition]) -> list[TopicPartition] | None:
        """The group's committed offsets of `partitions`, asked again while the coordinator is
        away or still loading; None if it does not answer within the time a rebalance may take."""
        deadline = time.monotonic() + ASSIGN_LOOKUP_S
        while True:
            try:
                found = self._consumer.committed(partitions, timeout=5.0)
                if not any(p.error is not None for p in found):
                    return list(found)
                failure: object = next(p.error for p in found if p.error is not None)
            except KafkaException as error:
                failure = error
            if time.monotonic() > deadline:
                logger.warning("committed offsets not found", extra={"error": str(failure)})
                return None
            time.sleep(0.5)

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        if consumer is not self._consumer:
            return
        # Their next owner starts from what the group has: give it what is done.
        self._commit_owed()
        self._on_lost(consumer, partitions)

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        if consumer is not self._consumer:
            # A replaced consumer leaving: its partitions are no longer in the ledger.
            return
        with self._ledger_lock:
            self._ledger.revoked((p.topic, p.partition) for p in partitions)
        logger.info(
            "partitions revoked",
            extra={"partitions": [f"{p.topic}/{p.partition}" for p in partitions]},
        )

    async def _watch_over(self) -> None:
        """Every second, commit what is still owed; every few, measure the lag for the health
        and for giving up."""
        measured_at = 0.0
        while True:
            await asyncio.sleep(1.0)
            self._commit_owed()
            if time.monotonic() - measured_at >= LAG_MEASURED_EVERY_S:
                measured_at = time.monotonic()
                try:
                    lag = await asyncio.to_thread(self._measure_lag)
                except GroupUnavailable as error:
                    self._watch.coordinator_missing(time.monotonic(), str(error))
                except KafkaException as error:
                    # The consumer may only say it cannot connect (or say nothing, if it is not
                    # trying): a new client with the settings as they are now tells refused
                    # ones, and whether Kafka answers at all.
                    try:
                        answered = await asyncio.to_thread(
                            check_connection, self._settings, timeout_s=PROBE_TIMEOUT_S
                        )
                    except KafkaSetupError as refused:
                        answered, self._refused = False, self._refused or str(refused)
                    if not answered:
                        self._watch.unreachable(time.monotonic(), str(error))
                        continue
                    self._watch.client_failing(
                        time.monotonic(), f"Kafka answers a new client, but not this one: {error}"
                    )
                else:
                    self._refused = None
                    self._lag = lag.group
                    self._watch.measured(time.monotonic(), lag)
                if (reason := self._watch.hopeless(time.monotonic())) is None:
                    continue
                if self._renewed:
                    logger.error("consumer stuck; exiting to be started again: %s", reason)
                    self._stuck = reason
                else:
                    self._renewal = reason

    def _measure_lag(self) -> Lag:
        """Records the group has not committed, in all of `topics` and in the partitions
        assigned here. Raises KafkaException when Kafka does not answer, GroupUnavailable when
        it does but the group's coordinator does not."""
        metadata = self._consumer.list_topics(timeout=LAG_TIMEOUT_S)
        partitions = [
            TopicPartition(topic, partition)
            for topic in self._topics
            if topic in metadata.topics
            for partition in metadata.topics[topic].partitions
        ]
        with self._ledger_lock:
            assigned = set(self._ledger.committed())
        if not partitions:
            return Lag(0, 0, len(assigned))
        group = mine = 0
        try:
            committed = self._consumer.committed(partitions, timeout=LAG_TIMEOUT_S)
        except KafkaException as error:
            raise GroupUnavailable(str(error)) from error
        for found in committed:
            if found.error is not None:
                raise GroupUnavailable(str(found.error))
            place = TopicPartition(found.topic, found.partition)
            watermarks = self._consumer.get_watermark_offsets(place, timeout=LAG_TIMEOUT_S)
            if watermarks is None:
                raise KafkaException(LibrdkafkaError(LibrdkafkaError._TIMED_OUT))
            low, high = watermarks
            waiting = max(high - max(found.offset, low), 0)
            group += waiting
            if (found.topic, found.partition) in assigned:
                mine += waiting
        return Lag(group, mine, len(assigned))

    @staticmethod
    async def _call(
        thread: ThreadPoolExecutor, function: Callable[..., T], *args: Any, **kwargs: Any
    ) -> T:
        return await asyncio.get_running_loop().run_in_executor(
            thread, functools.partial(function, *args, **kwargs)
        )


def _set_unless_done(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def _stop_quietly(producer: AIOKafkaProducer) -> None:
    try:
        await producer.stop()
    except KafkaError as error:
        logger.info("a retired Kafka producer stopped with %r", error)
