"""The bookkeeping of a sink, knowing nothing of Kafka or Elasticsearch: documents encoded as the
lines of a bulk request, records converted and gathered into bulks that are flushed by count,
bytes or age, and which offsets may be committed once bulks, sent concurrently, complete in any
order."""

from __future__ import annotations

import logging
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import orjson

from libs.batching import BatchPolicy
from libs.pipes import Record
from services.sinks.config import SinkKind
from services.sinks.documents import (
    Document,
    UnreadableRecord,
    to_document,
    unexpected_error_row,
)
from services.sinks.mappings import index_name

logger = logging.getLogger(__name__)


class BulkItem:
    """A document's two bulk-request lines (action and source), encoded once, with its `_id` and
    the record it came from. The document itself is not kept: a bulk's thousands of documents,
    alive until Elasticsearch answered, made the garbage collector walk them again and again (a
    fifth of the sink's CPU)."""

    # A plain class, for the reason Document is one.
    def __init__(self, id: str, record: Record, lines: bytes) -> None:
        self.id = id
        self.record = record
        self.lines = lines


def bulk_item(alias: str, document: Document) -> BulkItem:
    lines = b"".join(
        (
            _action_start(alias, document.day),
            orjson.dumps(document.id),
            b"}}\n",
            document.source,
            b"\n",
        )
    )
    return BulkItem(document.id, document.record, lines)


def _action_start(alias: str, day: str) -> bytes:
    """`{"index":{"_index":"<daily index>","_id":`, the same for a day's documents: made once."""
    known = _ACTION_STARTS.get((alias, day))
    if known is not None:
        return known
    if len(_ACTION_STARTS) >= _ACTION_STARTS_KEPT:
        _ACTION_STARTS.clear()
    start = b'{"index":{"_index":' + orjson.dumps(index_name(alias, day)) + b',"_id":'
    _ACTION_STARTS[(alias, day)] = start
    return start


_ACTION_STARTS: Final[dict[tuple[str, str], bytes]] = {}
# Days: bad rows and redelivered events may be from any day, so the cache is bounded.
_ACTION_STARTS_KEPT: Final = 1024


@dataclass(frozen=True, slots=True)
class BadRow:
    """An encoded bad row about `record`, which could not become a document or was refused."""

    record: Record
    row: bytes


@dataclass
class Bulk:
    """The outcomes of consecutive records: documents to index and bad rows to store."""

    ticket: int
    items: list[BulkItem] = field(default_factory=list)
    bad_rows: list[BadRow] = field(default_factory=list)
    size_bytes: int = 0
    # Monotonic time of the first outcome, None while empty.
    started: float | None = None

    def add_item(self, item: BulkItem, now: float) -> None:
        self.items.append(item)
        self.size_bytes += len(item.lines)
        self._touch(now)

    def add_bad_row(self, bad_row: BadRow, now: float) -> None:
        self.bad_rows.append(bad_row)
        self.size_bytes += len(bad_row.row)
        self._touch(now)

    def is_empty(self) -> bool:
        return self.started is None

    def is_full(self, limits: BatchPolicy) -> bool:
        return limits.is_full(self.size_bytes, len(self.items) + len(self.bad_rows))

    def due_in(self, limits: BatchPolicy, now: float) -> float | None:
        """Seconds until the bulk is old enough to be sent (<= 0: now); None while empty."""
        if self.started is None:
            return None
        return limits.due_in(self.started, now)

    def _touch(self, now: float) -> None:
        if self.started is None:
            self.started = now


def add_records(
    bulk: Bulk,
    tracker: CommitTracker,
    records: Sequence[Record],
    start: int,
    stop: int,
    *,
    kind: SinkKind,
    alias: str,
    limits: BatchPolicy,
    now: float,
) -> int:
    """Add the outcomes of `records[start:stop]` of a topic read by sinks of `kind` to `bulk` (a
    document for `alias`, or a bad row), and each record to `tracker`, stopping early once the
    bulk is full; return the index of the first record left."""
    # Compiled, this loop costs a fraction of what it did in the loader, once per record.
    at = start
    while at < stop:
        record = records[at]
        at += 1
        try:
            document = to_document(kind, record)
        except UnreadableRecord as unreadable:
            bulk.add_bad_row(BadRow(record, unreadable.bad_row), now)
        except Exception as error:
            logger.exception("a record made the %s sink fail; it goes to bad", kind)
            bulk.add_bad_row(BadRow(record, unexpected_error_row(kind, record, error)), now)
        else:
            bulk.add_item(bulk_item(alias, document), now)
        tracker.add(bulk.ticket, record)
        if bulk.is_full(limits):
            break
    return at


class CommitTracker:
    """Which records may be committed when bulks complete out of order.

    Records are added in the order they were read, each with the ticket of the bulk holding its
    outcome. A partition may be committed up to its last record whose bulk, and every earlier
    bulk holding records of that partition, has completed. Records delivered again after a
    rebalance are offered again: the source keeps its commits from going backwards, and only it
    knows whether the first offer was ever committed.
    """

    def __init__(self) -> None:
        # Per partition, runs of consecutive records in the same bulk: [ticket, last record].
        self._runs: dict[tuple[str, int], deque[tuple[int, Record]]] = {}
        self._open_runs: Counter[int] = Counter()
        self._completed: set[int] = set()

    def add(self, ticket: int, record: Record) -> None:
        position = (record.topic, record.partition)
        # Not setdefault(): its default, a new deque, would be made for every record.
        runs = self._runs.get(position)
        if runs is None:
            runs = self._runs[position] = deque()
        if runs and runs[-1][0] == ticket:
            runs[-1] = (ticket, record)
        else:
            runs.append((ticket, record))
            self._open_runs[ticket] += 1

    def complete(self, ticket: int) -> None:
        if self._open_runs[ticket]:
            self._completed.add(ticket)
        else:
            del self._open_runs[ticket]

    def committable(self) -> list[Record]:
        """For each partition that can move forward, the last record to commit; each record is
        returned once."""
        ready: list[Record] = []
        for runs in self._runs.values():
            last: Record | None = None
            while runs and runs[0][0] in self._completed:
                ticket, last = runs.popleft()
                self._open_runs[ticket] -= 1
                if not self._open_runs[ticket]:
                    del self._open_runs[ticket]
                    self._completed.discard(ticket)
            if last is not None:
                ready.append(last)
        return ready
