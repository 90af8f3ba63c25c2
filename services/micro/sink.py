"""Where `furrow micro` differs from the pipeline: the collector's sink is not Kafka but the
enricher, in the same process, writing what it makes of each record into a store in Micro's
shapes, and into the console's index as the documents the sinks would index."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from libs.formats import enriched
from libs.formats.collector_payload import CollectorPayloadError, decode
from libs.pipes import Message, Record
from services.console.queries import Kind
from services.enrich.core import Enricher, Outputs
from services.micro import shapes
from services.sinks.documents import Document, UnreadableRecord, to_document

# No broker limits a record here: the collector never splits a request for its sink's sake.
UNLIMITED_BYTES = 2**31 - 1


class EventStore(Protocol):
    def add_good(self, event: dict[str, Any]) -> None: ...

    def add_bad(self, event: dict[str, Any]) -> None: ...


class DocumentIndex(Protocol):
    def add(self, kind: Kind, document: Document) -> None: ...


def index(documents: DocumentIndex, kind: Kind, value: bytes, now: datetime) -> None:
    """Add the document a sink of `kind` would make of `value`, or the bad row it would write
    instead."""
    record = Record(kind, 0, 0, value, timestamp_ms=int(now.timestamp() * 1000))
    try:
        documents.add(kind, to_document(kind, record))
    except UnreadableRecord as unreadable:
        index(documents, "bad", unreadable.bad_row, now)


class EnrichingSink:
    """A collector Sink: raw records (on `raw_topic`) go through `enricher`, one good or bad
    event each into `store` and `documents`; records for any other topic are the collector's own
    bad rows (a body over its limit)."""

    max_bytes = UNLIMITED_BYTES

    def __init__(
        self, enricher: Enricher, store: EventStore, documents: DocumentIndex, raw_topic: str
    ) -> None:
        self._enricher = enricher
        self._store = store
        self._documents = documents
        self._raw_topic = raw_topic

    # Nothing to open: the enricher and the stores live in this process.
    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    def is_healthy(self) -> bool:
        return True

    def health_problem(self) -> str | None:
        return None

    async def write(self, messages: Sequence[Message]) -> None:
        now = datetime.now(UTC)
        for message in messages:
            if message.topic == self._raw_topic:
                self.enrich(message.value, now)
            else:
                self._store.add_bad(shapes.bad_event(message.value, None, None))
                index(self._documents, "bad", message.value, now)

    def enrich(self, record: bytes, now: datetime) -> None:
        """Store what the enricher makes of one raw record, each output with the request and
        the event it came from."""
        outputs = Outputs()
        try:
            payload = decode(record)
        except CollectorPayloadError:
            self._enricher.enrich(record, now=now, outputs=outputs)
            for row in outputs.bad:
                self._store.add_bad(shapes.bad_event(row, None, None))
                index(self._documents, "bad", row, now)
            return
        adapted = self._enricher.adapt(payload, now=now, outputs=outputs)
        request = shapes.collector_payload(payload, adapted.vendor, adapted.version)
        for row in outputs.bad:
            self._store.add_bad(shapes.bad_event(row, request, None))
            index(self._documents, "bad", row, now)
        for event in adapted.events:
            good_before, bad_before = len(outputs.good), len(outputs.bad)
            self._enricher.enrich_event(event, adapted.vendor, adapted.version, now, outputs)
            raw = shapes.raw_event(event.payload, adapted.vendor, adapted.version, event.parameters)
            for line in outputs.good[good_before:]:
                self._store.add_good(shapes.good_event(enriched.to_event(line), raw))
                index(self._documents, "good", line.encode(), now)
            for row in outputs.bad[bad_before:]:
                self._store.add_bad(shapes.bad_event(row, request, raw))
                index(self._documents, "bad", row, now)
