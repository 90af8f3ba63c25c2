"""The sink's loop: records in, bulk requests out, offsets committed once Elasticsearch (and, for
bad rows, their destination) has everything up to them. Reading, converting and indexing overlap
as `services.sinks.shipments` has them.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Sequence
from typing import Protocol

from prometheus_client import Counter, Histogram

from libs.batching import BatchPolicy
from libs.formats.enriched import collector_time
from libs.pipes import Message, Record, Sink, SinkError, Source
from services.sinks.bulks import BadRow, Bulk, BulkItem, add_records, bulk_item
from services.sinks.config import SinkKind
from services.sinks.documents import Document, bad_document, rejected_row
from services.sinks.elastic import Rejection
from services.sinks.shipments import Shipments

logger = logging.getLogger(__name__)

# Records converted between two looks at the event loop.
YIELD_EVERY = 50

INDEXED = Counter("furrow_sink_documents_indexed_total", "Documents indexed", ["index"])
BAD_ROWS = Counter("furrow_sink_bad_rows_total", "Bad rows stored by a sink", ["index"])
BULK_SECONDS = Histogram(
    "furrow_sink_bulk_seconds", "Time to store a bulk, retries included", ["index"]
)
COLLECTOR_TO_INDEXED = Histogram(
    "furrow_sink_collector_to_indexed_seconds",
    "From an event's collector_tstamp to Elasticsearch acknowledging its document (good sink, "
    "a sample of each bulk)",
    ["index"],
    buckets=(0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10, 15, 30, 60, 120, 300, 600, 1800),
)
# Events of a bulk whose latency is observed: they were acknowledged together, so a few spread
# over the bulk tell its spread, and parsing every timestamp would cost the hot path.
LATENCY_SAMPLES_PER_BULK = 16


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
        limits: BatchPolicy,
        *,
        max_concurrent: int,
    ) -> None:
        self._kind = kind
        self._indexer = indexer
        self._bad_rows = bad_rows
        self._limits = limits
        self._max_concurrent = max_concurrent

    async def run(self, source: Source) -> None:
        """Load every record of `source` until it closes, then send what is left and return once
        all of it is stored and committed. An error that retrying cannot fix propagates, leaving
        the records of unfinished bulks uncommitted for the next run."""
        shipments = Shipments(
            source, self._limits, self._timed_store, max_concurrent=self._max_concurrent
        )

        async def fill(batch: list[Record]) -> None:
            now = time.monotonic()
            start = 0
            while start < len(batch):
                start = add_records(
                    shipments.bulk,
                    shipments.tracker,
                    batch,
                    start,
                    min(len(batch), start + YIELD_EVERY),
                    kind=self._kind,
                    alias=self._indexer.alias,
                    limits=self._limits,
                    now=now,
                )
                if shipments.bulk.is_full(self._limits):
                    await shipments.dispatch()
                else:
                    # Converting is CPU work: let acknowledgements in, so that a free slot
                    # is refilled at once and Elasticsearch never waits for us.
                    await asyncio.sleep(0)

        await shipments.run(fill)

    async def _timed_store(self, bulk: Bulk) -> None:
        with BULK_SECONDS.labels(self._indexer.alias).time():
            await self._store(bulk)

    async def _store(self, bulk: Bulk) -> None:
        rejections = await self._indexer.index(bulk.items)
        if self._kind == "good":
            _observe_collector_to_indexed(self._indexer.alias, bulk.items, rejections)
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


def _observe_collector_to_indexed(
    alias: str, items: Sequence[BulkItem], rejections: Sequence[Rejection]
) -> None:
    """Into COLLECTOR_TO_INDEXED, the age of up to LATENCY_SAMPLES_PER_BULK evenly spaced events
    of those Elasticsearch acknowledged."""
    refused = {id(rejection.item) for rejection in rejections}
    acknowledged = [item for item in items if id(item) not in refused] if refused else items
    samples = min(LATENCY_SAMPLES_PER_BULK, len(acknowledged))
    now = time.time()
    histogram = COLLECTOR_TO_INDEXED.labels(alias)
    for sample in range(samples):
        item = acknowledged[sample * len(acknowledged) // samples]
        try:
            collected = collector_time(item.record.value)
        except ValueError:
            # Indexed with a timestamp Elasticsearch read but this does not: no latency to tell.
            continue
        histogram.observe(now - collected.timestamp())
