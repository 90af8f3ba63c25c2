"""One destination's loop: records of `good` in, filtered and shaped, sent in batches; offsets
committed once every record up to them was delivered, left out by the filter, or written to `bad`
as an `event_forwarding_error` bad row.

Batches fill, travel and are committed as the sinks' bulks do (`services.sinks.shipments`): while
`max_in_flight` are on their way (the destination slow, down or being retried), reading stops. A
batch the destination refuses is split in two and each half sent again, down to the single events
it refuses, which become bad rows: one event the destination will never take does not take its
batch with it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from prometheus_client import Counter

from libs.batching import BatchPolicy
from libs.formats import badrows
from libs.formats.enriched import FIELD_COUNT
from libs.pipes import Message, Record, Sink, Source, write_patiently
from services.forward.config import DestinationSettings
from services.forward.filters import EventFilter, FilteredEvent, compile_filter
from services.forward.payloads import Shaper, Unforwardable, shaper
from services.forward.retries import Answer, RetryPolicy, Verdict
from services.forward.targets import Target
from services.sinks.bulks import BadRow, Bulk, BulkItem
from services.sinks.shipments import Shipments

logger = logging.getLogger(__name__)

COMPONENT = "forward"
# Records shaped between two looks at the event loop.
YIELD_EVERY = 50

SENT = Counter("furrow_forward_events_sent_total", "Events a destination took", ["destination"])
FAILED = Counter(
    "furrow_forward_events_failed_total", "Events written to bad instead", ["destination"]
)
RETRIED = Counter(
    "furrow_forward_events_retried_total", "Events sent again after a failed send", ["destination"]
)
FILTERED = Counter(
    "furrow_forward_events_filtered_total",
    "Events a destination's filter left out",
    ["destination"],
)

Sleep = Callable[[float], Awaitable[None]]


def destination_forwarder(
    destination: DestinationSettings, target: Target, *, bad_sink: Sink, bad_topic: str
) -> Forwarder:
    """The forwarder of `destination`, sending to `target`."""
    return Forwarder(
        destination.name,
        event_filter=compile_filter(destination.filter),
        shape=shaper(destination),
        target=target,
        bad_sink=bad_sink,
        bad_topic=bad_topic,
        limits=BatchPolicy(
            max_bytes=destination.batch_max_bytes,
            max_age_s=destination.flush_interval_s,
            max_count=destination.batch_max_events,
        ),
        policy=RetryPolicy(destination.max_attempts, destination.max_backoff_s),
        max_in_flight=destination.max_in_flight,
    )


class Forwarder:
    def __init__(
        self,
        name: str,
        *,
        event_filter: EventFilter | None,
        shape: Shaper,
        target: Target,
        bad_sink: Sink,
        bad_topic: str,
        limits: BatchPolicy,
        policy: RetryPolicy,
        max_in_flight: int,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._name = name
        self._filter = event_filter
        self._shape = shape
        self._target = target
        self._bad_sink = bad_sink
        self._bad_topic = bad_topic
        self._limits = limits
        self._policy = policy
        self._sleep = sleep
        self._max_in_flight = max_in_flight
        self._sent = SENT.labels(name)
        self._failed = FAILED.labels(name)
        self._retried = RETRIED.labels(name)
        self._filtered = FILTERED.labels(name)

    async def run(self, source: Source) -> None:
        """Forward every record of `source` until it closes, then send what is left and return
        once all of it is delivered (or a bad row) and committed."""
        shipments = Shipments(source, self._limits, self._store, max_concurrent=self._max_in_flight)
        await shipments.run(lambda records: self._add(records, shipments))

    async def _add(self, records: list[Record], shipments: Shipments) -> None:
        now = time.monotonic()
        # The records the filter leaves out are done at once: they share a ticket of their own,
        # completed at the end, so they are committed as soon as the records before them are.
        left_out = shipments.new_ticket()
        any_left_out = False
        for at, record in enumerate(records, 1):
            try:
                outcome = self._outcome(record)
            except Exception as error:
                # A bug, not the record's fault: the record goes to bad (to be replayed once
                # fixed) rather than crash the forwarder every time it is read again.
                logger.exception("a record made destination %s fail; it goes to bad", self._name)
                row = badrows.unexpected_error(
                    COMPONENT, record.value, error, now=datetime.now(UTC)
                )
                outcome = BadRow(record, row)
            if outcome is None:
                shipments.tracker.add(left_out, record)
                any_left_out = True
                continue
            batch = shipments.bulk
            if isinstance(outcome, BadRow):
                batch.add_bad_row(outcome, now)
            else:
                batch.add_item(BulkItem("", record, outcome), now)
            shipments.tracker.add(batch.ticket, record)
            if batch.is_full(self._limits):
                await shipments.dispatch()
            elif at % YIELD_EVERY == 0:
                # Shaping is CPU work: let answers in, so that a free slot is refilled at once.
                await asyncio.sleep(0)
        if any_left_out:
            shipments.tracker.complete(left_out)
            await shipments.commit()

    def _outcome(self, record: Record) -> bytes | BadRow | None:
        """What to send for `record`, a bad row if nothing can be, None if it is left out."""
        if self._filter is not None:
            try:
                columns = record.value.decode().split("\t")
            except UnicodeDecodeError:
                return self._bad_row(record, "TransformationError", "not UTF-8 text")
            if len(columns) != FIELD_COUNT:
                message = f"not an enriched event: {len(columns)} columns, not {FIELD_COUNT}"
                return self._bad_row(record, "TransformationError", message)
            if not self._filter(FilteredEvent(columns)):
                self._filtered.inc()
                return None
        try:
            return self._shape(record.value)
        except Unforwardable as unforwardable:
            return self._bad_row(record, "TransformationError", str(unforwardable))

    async def _store(self, batch: Bulk) -> None:
        bad_rows = batch.bad_rows + await self._deliver(batch.items)
        if bad_rows:
            messages = [
                Message(self._bad_topic, bad.row, timestamp_ms=bad.record.timestamp_ms)
                for bad in bad_rows
            ]
            await write_patiently(self._bad_sink, messages, max_backoff_s=self._policy.max_wait_s)
            self._failed.inc(len(bad_rows))

    async def _deliver(self, items: Sequence[BulkItem]) -> list[BadRow]:
        """Send `items` until the target takes them, retrying what it may take later; the bad
        rows of those it refuses one by one, or that are past the retry budget."""
        if not items:
            return []
        attempt = 1
        while True:
            answer = await self._target.send([item.lines for item in items])
            if answer.verdict is Verdict.DELIVERED:
                self._sent.inc(len(items))
                return []
            if answer.verdict is Verdict.REFUSED:
                if len(items) == 1:
                    return [self._refused(items[0], answer, "Refused")]
                half = len(items) // 2
                return await self._deliver(items[:half]) + await self._deliver(items[half:])
            attempt += 1
            wait_s = self._policy.wait_before(attempt, answer.retry_after_s)
            if wait_s is None:
                logger.error(
                    "events past their retry budget became bad rows",
                    extra={
                        "destination": self._name,
                        "events": len(items),
                        "reason": answer.reason,
                    },
                )
                return [self._refused(item, answer, "RetriesExhausted") for item in items]
            logger.warning(
                "send failed, trying again",
                extra={
                    "destination": self._name,
                    "events": len(items),
                    "attempt": attempt,
                    "wait_s": wait_s,
                    "reason": answer.reason,
                },
            )
            self._retried.inc(len(items))
            await self._sleep(wait_s)

    def _refused(self, item: BulkItem, answer: Answer, error_type: str) -> BadRow:
        code = None if answer.code is None else str(answer.code)
        state = item.lines.decode("utf-8", errors="replace")
        return self._bad_row(item.record, error_type, answer.reason, code=code, state=state)

    def _bad_row(
        self,
        record: Record,
        error_type: str,
        message: str,
        *,
        code: str | None = None,
        state: str | None = None,
    ) -> BadRow:
        row = badrows.event_forwarding_error(
            COMPONENT,
            record.value.decode("utf-8", errors="replace"),
            error_type=error_type,
            message=f"destination {self._name}: {message}",
            code=code,
            latest_state=state,
            now=datetime.now(UTC),
        )
        return BadRow(record, row)
