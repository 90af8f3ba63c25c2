"""The pipes between services: a `Source` of records and a `Sink` that makes messages durable,
each with the `start`/`stop` of its `Lifecycle` (libs.service runs them).

Services depend on these protocols only; `libs.kafka` implements them over Kafka and `MemoryPipe`
in memory for unit tests of the cores. `run_pipe` holds the at-least-once rule once for everybody:
a batch is committed only after its handler has returned, i.e. after its outputs are durable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple, Protocol

from libs.backoff import Backoff

logger = logging.getLogger(__name__)


# A NamedTuple, like Record: the enricher makes one per event, and a NamedTuple is made faster
# than a frozen dataclass (see docs/performance.md).
class Message(NamedTuple):
    """Something to write to a topic; `timestamp_ms` None means the time of writing."""

    topic: str
    value: bytes
    key: bytes | None = None
    timestamp_ms: int | None = None


# A NamedTuple, not a frozen dataclass: a consumer makes one per record read, and a frozen
# dataclass sets each field through object.__setattr__, far slower (see docs/performance.md).
class Record(NamedTuple):
    """Something read from a topic, with the position needed to commit it."""

    topic: str
    partition: int
    offset: int
    value: bytes
    key: bytes | None = None
    timestamp_ms: int = 0


def record_time(record: Record) -> datetime:
    """The time kept with `record` (its Kafka timestamp), in UTC. Bad rows made from a record are
    stamped with it rather than the clock: a redelivered record then makes the very same row."""
    return datetime.fromtimestamp(record.timestamp_ms / 1000, UTC)


class SinkError(RuntimeError):
    """The sink could not make the messages durable; none of them may be assumed written."""


class Lifecycle(Protocol):
    async def start(self) -> None:
        """Connect; raise with the reason if the servers refuse the settings."""
        ...

    async def stop(self) -> None:
        """Release what `start` took, once what was handed over is done."""
        ...


class Sink(Lifecycle, Protocol):
    @property
    def max_bytes(self) -> int:
        """The largest message value this sink accepts."""
        ...

    def is_healthy(self) -> bool:
        """True while writes succeed; false before the first write and after a failed one."""
        ...

    def health_problem(self) -> str | None:
        """What the servers have against the sink's settings (refused credentials, say), while
        they do; None otherwise, even while writes fail for another reason."""
        ...

    async def write(self, messages: Sequence[Message]) -> None:
        """Return once every message is durable; raise SinkError otherwise."""
        ...


class Source(Lifecycle, Protocol):
    def health_problem(self) -> str | None:
        """Why the source is not healthy (stalled, its server away), or None while it is."""
        ...

    def batches(self) -> AsyncIterator[list[Record]]:
        """Non-empty batches of records, in order within each partition, until `close()`."""
        ...

    async def commit(self, records: Sequence[Record]) -> None:
        """Mark `records` (and everything before them in their partitions) as done."""
        ...

    def close(self) -> None:
        """End `batches()` after the batch in hand, so the caller drains and stops."""
        ...


BatchHandler = Callable[[list[Record]], Awaitable[None]]


async def run_pipe(source: Source, handle: BatchHandler) -> None:
    """Feed every batch of `source` to `handle`, committing it only after `handle` returned.

    A batch whose handler raises is not committed and the exception propagates: the process stops
    and the records are read again after a restart (at-least-once, never a silent drop).
    """
    async for batch in source.batches():
        await handle(batch)
        await source.commit(batch)


async def write_patiently(
    sink: Sink,
    messages: Sequence[Message],
    *,
    max_backoff_s: float,
    on_failure: Callable[[SinkError], None] | None = None,
) -> None:
    """Write `messages`, waiting out an outage of the sink: a failed write is logged, passed to
    `on_failure` and tried again, with backoff, until it succeeds. A consumer that stopped at the
    first failure would only be restarted to fail again; waiting keeps its records uncommitted
    and its place in the group. Trying again is safe: a write that failed may have stored some
    messages, which at-least-once delivery allows."""
    backoff = Backoff(max_backoff_s)
    while True:
        try:
            await sink.write(messages)
            return
        except SinkError as error:
            logger.warning(
                "write failed, trying again",
                extra={"messages": len(messages), "error": str(error)},
            )
            if on_failure is not None:
                on_failure(error)
            await backoff.wait()


@dataclass
class MemoryPipe:
    """An in-memory Sink and Source for unit tests: written messages become readable records."""

    max_bytes: int = 1_048_576
    healthy: bool = True
    written: list[Message] = field(default_factory=list)
    committed: dict[tuple[str, int], int] = field(default_factory=dict)
    _queue: asyncio.Queue[list[Record] | None] = field(default_factory=asyncio.Queue)

    # Memory needs no opening or closing.
    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    def is_healthy(self) -> bool:
        return self.healthy

    def health_problem(self) -> str | None:
        return None if self.healthy else "memory pipe set unhealthy"

    async def write(self, messages: Sequence[Message]) -> None:
        if not self.healthy:
            raise SinkError("memory pipe set unhealthy")
        self.written.extend(messages)

    def feed(self, records: list[Record]) -> None:
        """Queue one batch for `batches()`."""
        self._queue.put_nowait(records)

    async def batches(self) -> AsyncIterator[list[Record]]:
        while (batch := await self._queue.get()) is not None:
            yield batch

    async def commit(self, records: Sequence[Record]) -> None:
        for record in records:
            position = (record.topic, record.partition)
            self.committed[position] = max(self.committed.get(position, -1), record.offset + 1)

    def close(self) -> None:
        self._queue.put_nowait(None)
