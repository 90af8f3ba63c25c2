"""Log entries of every connection, written to the logs topic in large batches.

Readers hand over what each read produced and go back to their socket at once: one Kafka write
(acks=all) then carries the lines of many reads and many connections, instead of one write per
read. What readers may hand over is bounded: past `max_buffered_bytes` waiting or in flight, they
wait (and the TCP windows fill) until Kafka has taken some, which is the back-pressure when Kafka
is slow or down.

What is promised: an entry handed over is retried until Kafka acknowledges it, however long Kafka
is away; on shutdown, everything handed over is written before the process exits (for at most the
drain timeout). Only a process killed outright loses what it held, at most `max_buffered_bytes`.
"""

from __future__ import annotations

import asyncio
from collections import deque

from prometheus_client import Counter, Gauge

from libs.batching import BatchPolicy
from libs.pipes import Message, Sink, SinkError, write_patiently

LINES = Counter("furrow_logs_lines_total", "Log lines written to the logs topic")
BUFFERED = Gauge("furrow_logs_buffered_bytes", "Log entries waiting for Kafka or in flight")
WRITE_FAILURES = Counter("furrow_logs_write_failures_total", "Kafka writes of log lines retried")


class LineShipper:
    def __init__(
        self,
        sink: Sink,
        topic: str,
        *,
        batches: BatchPolicy,
        max_buffered_bytes: int,
        max_in_flight: int,
        max_backoff_s: float,
    ) -> None:
        self._sink = sink
        self._topic = topic
        self._batches = batches
        self._max_buffered_bytes = max_buffered_bytes
        self._max_backoff_s = max_backoff_s
        self._queue: deque[bytes] = deque()
        self._queued_bytes = 0
        # Queued plus in flight: what the process holds that Kafka has not acknowledged.
        self._held_bytes = 0
        self._in_flight_entries = 0
        self._slots = asyncio.Semaphore(max_in_flight)
        self._wakeup = asyncio.Event()
        self._room = asyncio.Condition()
        self._closing = False
        self._failing = False

    @property
    def held_entries(self) -> int:
        """Entries not yet acknowledged by Kafka, in flight or not."""
        return len(self._queue) + self._in_flight_entries

    def is_healthy(self) -> bool:
        """False while writes to Kafka are failing."""
        return not self._failing

    def hand_over(self, entries: list[bytes]) -> None:
        """Take `entries` (encoded log documents); from now on they are the shipper's to write."""
        size = sum(len(entry) for entry in entries)
        self._queue.extend(entries)
        self._queued_bytes += size
        self._held_bytes += size
        BUFFERED.set(self._held_bytes)
        self._wakeup.set()

    async def wait_for_room(self) -> None:
        """Return once the shipper holds no more than `max_buffered_bytes`."""
        if self._held_bytes <= self._max_buffered_bytes:
            return
        async with self._room:
            await self._room.wait_for(lambda: self._held_bytes <= self._max_buffered_bytes)

    def close(self) -> None:
        """Let `run()` return once everything handed over so far is written."""
        self._closing = True
        self._wakeup.set()

    async def run(self) -> None:
        """Write batches until `close()`, then drain and return."""
        async with asyncio.TaskGroup() as writes:
            while self._queue or not self._closing:
                if not self._queue:
                    self._wakeup.clear()
                    await self._wakeup.wait()
                    continue
                full = self._batches.is_full(self._queued_bytes, len(self._queue))
                if not full and not self._closing:
                    # Let more lines arrive so that one acknowledged write carries many.
                    await asyncio.sleep(self._batches.max_age_s)
                await self._slots.acquire()
                writes.create_task(self._write(self._take()))

    def _note_failure(self, error: SinkError) -> None:
        self._failing = True
        WRITE_FAILURES.inc()

    def _take(self) -> list[bytes]:
        batch: list[bytes] = []
        size = 0
        while self._queue and (
            not batch or self._batches.fits(size + len(self._queue[0]), len(batch) + 1)
        ):
            entry = self._queue.popleft()
            batch.append(entry)
            size += len(entry)
        self._queued_bytes -= size
        self._in_flight_entries += len(batch)
        return batch

    async def _write(self, batch: list[bytes]) -> None:
        messages = [Message(self._topic, entry) for entry in batch]
        try:
            await write_patiently(
                self._sink,
                messages,
                max_backoff_s=self._max_backoff_s,
                on_failure=self._note_failure,
            )
            self._failing = False
        finally:
            self._slots.release()
        self._in_flight_entries -= len(batch)
        self._held_bytes -= sum(len(entry) for entry in batch)
        BUFFERED.set(self._held_bytes)
        LINES.inc(len(batch))
        async with self._room:
            self._room.notify_all()
