"""A Kafka source for benchmarks, timed from its first batch."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence

from libs.kafka import KafkaSource
from libs.pipes import Record


class Timed:
    """A started source that notes when its first batch arrived and closes after `count`
    records: the sink's rate excludes joining the consumer group."""

    def __init__(self, source: KafkaSource, count: int) -> None:
        self._source = source
        self._left = count
        self.first_batch_at: float | None = None

    async def start(self) -> None:
        await self._source.start()

    async def stop(self) -> None:
        await self._source.stop()

    def health_problem(self) -> str | None:
        return self._source.health_problem()

    async def batches(self) -> AsyncIterator[list[Record]]:
        async for batch in self._source.batches():
            if self.first_batch_at is None:
                self.first_batch_at = time.perf_counter()
            self._left -= len(batch)
            if self._left <= 0:
                self._source.close()
            yield batch

    async def commit(self, records: Sequence[Record]) -> None:
        await self._source.commit(records)

    def close(self) -> None:
        self._source.close()
