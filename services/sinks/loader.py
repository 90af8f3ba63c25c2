"""The sink's loop: records in, bulk requests out, offsets committed once Elasticsearch (and, for
bad rows, their destination) has everything up to them.

Reading, converting and indexing overlap: while up to `max_concurrent` bulk requests are in
flight the next bulk fills; when all are busy (Elasticsearch slow or down), reading stops until one
completes, so memory stays bounded and nothing is committed that is not indexed.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Sequence
from typing import Protocol

from prometheus_client import Counter, Histogram

from libs.pipes import Message, Sink, SinkError, Source
from services.sinks.bulks import (
    BadRow,
    Bulk,
    BulkItem,
    BulkLimits,
    CommitTracker,
    add_records,
    bulk_item,
)
from services.sinks.config import SinkKind
from services.sinks.documents import Document, bad_document, rejected_row
from services.sinks.elastic import Rejection

logger = logging.getLogger(__name__)

# Records converted between two looks at the event loop.
YIELD_EVERY = 50

INDEXED = Counter("furrow_sink_documents_indexed_total", "Documents indexed", ["index"])
BAD_ROWS = Counter("furrow_sink_bad_rows_total", "Bad rows stored by a sink", ["index"])
BULK_SECONDS = Histogram(
    "furrow_sink_bulk_seconds", "Time to store a bulk, retries included", ["index"]
)


class Indexer(Protocol):
    @property
    def alias(self) -> str:
        """The alias whose daily indices the documents go to."""
        ...

    async def index(self, items: Sequence[BulkItem]) -> list[Rejection]:
        """Index every item (waiting out outages); return the ones refused for good."""
        ...


class BadRowOutlet(Protocol):
    async def store(self, bad_rows: Sequence[BadRow]) -> None:
        """Return once every bad row is durable; raise otherwise."""
        ...


class KafkaBadRows:
    """Bad rows to the bad topic, each stamped with the time of the record it is about, so that
    the row for a redelivered record is the very same record in the bad index."""

    def __init__(self, sink: Sink, topic: str) -> None:
        self._sink = sink
        self._topic = topic

    async def store(self, bad_rows: Sequence[BadRow]) -> None:
        await self._sink.write(
            [
                Message(self._topic, bad.row, timestamp_ms=bad.record.timestamp_ms)
                for bad in bad_rows
            ]
        )


class IndexedBadRows:
    """Bad rows of the bad sink itself, indexed directly: written to the bad topic, its own input,
    a row it cannot index would come back forever. Each stands in for its record under the
    record's own `_id`."""

    def __init__(self, indexer: Indexer) -> None:
        self._indexer = indexer

    async def store(self, bad_rows: Sequence[BadRow]) -> None:
        items = [bulk_item(self._indexer.alias, _stand_in(bad)) for bad in bad_rows]
        if rejections := await self._indexer.index(items):
            raise SinkError(f"the bad index refused a generic_error row: {rejections[0].reason}")


def _stand_in(bad: BadRow) -> Document:
    """The document of a bad row about `bad.record`, identified as that record would have been."""
    document = bad_document(bad.record._replace(value=bad.row))
    return Document(
        hashlib.sha256(bad.record.value).hexdigest(), document.day, document.source, bad.record
    )


class Loader:
    def __init__(
        self,
        kind: SinkKind,
        indexer: Indexer,
        bad_rows: BadRowOutlet,
        limits: BulkLimits,
        *,
        max_concurrent: int,
    ) -> None:
        self._kind = kind
        self._indexer = indexer
        self._bad_rows = bad_rows
        self._limits = limits
        self._slots = asyncio.Semaphore(max_concurrent)
        self._dispatching = asyncio.Lock()
        self._committing = asyncio.Lock()
        self._tracker = CommitTracker()
        self._tickets = 0
        self._bulk = Bulk(self._tickets)

    async def run(self, source: Source) -> None:
        """Load every record of `source` until it closes, then send what is left and return once
        all of it is stored and committed. An error that retrying cannot fix propagates, leaving
        the records of unfinished bulks uncommitted for the next run."""
        async with asyncio.TaskGroup() as shipments:
            timer = shipments.create_task(self._flush_when_due(source, shipments))
            async for batch in source.batches():
                now = time.monotonic()
                start = 0
                while start < len(batch):
                    start = add_records(
                        self._bulk,
                        self._tracker,
                        batch,
                        start,
                        min(len(batch), start + YIELD_EVERY),
                        kind=self._kind,
                        alias=self._indexer.alias,
                        limits=self._limits,
                        now=now,
                    )
                    if self._bulk.is_full(self._limits):
                        await self._dispatch(source, shipments)
                    else:
                        # Converting is CPU work: let acknowledgements in, so that a free slot
                        # is refilled at once and Elasticsearch never waits for us.
                        await asyncio.sleep(0)
            timer.cancel()
            await self._dispatch(source, shipments)

    async def _flush_when_due(self, source: Source, shipments: asyncio.TaskGroup) -> None:
        while True:
            due_in = self._bulk.due_in(self._limits, time.monotonic())
            if due_in is None:
                # Nothing waiting: look again soon, so a bulk is at most a quarter late.
                await asyncio.sleep(self._limits.flush_interval_s / 4)
            elif due_in > 0:
                await asyncio.sleep(due_in)
            else:
                await self._dispatch(source, shipments)

    async def _dispatch(self, source: Source, shipments: asyncio.TaskGroup) -> None:
        """Send the bulk being filled as soon as a slot is free, and start a fresh one."""
        async with self._dispatching:
            # The slot first: cancelled while waiting (at shutdown), the bulk is still in hand.
            await self._slots.acquire()
            if self._bulk.is_empty():
                self._slots.release()
                return
            bulk = self._bulk
            self._tickets += 1
            self._bulk = Bulk(self._tickets)
            shipments.create_task(self._ship(bulk, source))

    async def _ship(self, bulk: Bulk, source: Source) -> None:
        try:
            with BULK_SECONDS.labels(self._indexer.alias).time():
                await self._store(bulk)
        finally:
            self._slots.release()
        self._tracker.complete(bulk.ticket)
        # One commit at a time, each taking whatever is ready then: commits never go backwards.
        async with self._committing:
            if ready := self._tracker.committable():
                await source.commit(ready)

    async def _store(self, bulk: Bulk) -> None:
        rejections = await self._indexer.index(bulk.items)
        bad_rows = bulk.bad_rows + [
            BadRow(
                rejection.item.record,
                rejected_row(self._kind, rejection.item.record, rejection.reason),
            )
            for rejection in rejections
        ]
        if bad_rows:
            await self._bad_rows.store(bad_rows)
        INDEXED.labels(self._indexer.alias).inc(len(bulk.items) - len(rejections))
        BAD_ROWS.labels(self._indexer.alias).inc(len(bad_rows))
        if rejections:
            logger.warning(
                "documents refused by Elasticsearch became bad rows",
                extra={"documents": len(rejections), "reason": rejections[0].reason},
            )
