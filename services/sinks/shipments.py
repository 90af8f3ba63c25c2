"""Bulks filled from a source, sent concurrently, committed in order: the loop shared by the sinks
and the forwarder, which differ only in how a record becomes a bulk's item and how a bulk is
stored.

While up to `max_concurrent` bulks are in flight the next one fills; when all are busy (the
destination slow or down), filling stops until one completes, so memory stays bounded and nothing
is committed that is not stored. A bulk is sent when it is full or old enough (its BatchPolicy).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from libs.batching import BatchPolicy
from libs.pipes import Record, Source
from services.sinks.bulks import Bulk, CommitTracker


class Shipments:
    def __init__(
        self,
        source: Source,
        limits: BatchPolicy,
        store: Callable[[Bulk], Awaitable[None]],
        *,
        max_concurrent: int,
    ) -> None:
        self.limits = limits
        self.tracker = CommitTracker()
        self._source = source
        self._store = store
        self._slots = asyncio.Semaphore(max_concurrent)
        self._dispatching = asyncio.Lock()
        self._committing = asyncio.Lock()
        self._tickets = 0
        # The bulk being filled; records go to `tracker` with its ticket.
        self.bulk = Bulk(self._tickets)
        self._shipments: asyncio.TaskGroup | None = None

    async def run(self, fill: Callable[[list[Record]], Awaitable[None]]) -> None:
        """Give every batch of the source to `fill` until the source closes, then send what is
        left and return once all of it is stored and committed. An error that retrying cannot
        fix propagates, leaving the records of unfinished bulks uncommitted for the next run."""
        async with asyncio.TaskGroup() as shipments:
            self._shipments = shipments
            timer = shipments.create_task(self._flush_when_due())
            async for batch in self._source.batches():
                await fill(batch)
            timer.cancel()
            await self.dispatch()

    def new_ticket(self) -> int:
        """A ticket for records done without a bulk, to `tracker.complete` once added."""
        self._tickets += 1
        return self._tickets

    async def dispatch(self) -> None:
        """Send the bulk being filled as soon as a slot is free, and start a fresh one."""
        assert self._shipments is not None, "dispatch() is for fill(), within run()"
        async with self._dispatching:
            # The slot first: cancelled while waiting (at shutdown), the bulk is still in hand.
            await self._slots.acquire()
            if self.bulk.is_empty():
                self._slots.release()
                return
            bulk = self.bulk
            self.bulk = Bulk(self.new_ticket())
            self._shipments.create_task(self._ship(bulk))

    async def commit(self) -> None:
        """Commit whatever the completed bulks allow."""
        # One commit at a time, each taking whatever is ready then: commits never go backwards.
        async with self._committing:
            if ready := self.tracker.committable():
                await self._source.commit(ready)

    async def _flush_when_due(self) -> None:
        while True:
            due_in = self.bulk.due_in(self.limits, time.monotonic())
            if due_in is None:
                # Nothing waiting: look again soon, so a bulk is at most a quarter late.
                await asyncio.sleep(self.limits.max_age_s / 4)
            elif due_in > 0:
                await asyncio.sleep(due_in)
            else:
                await self.dispatch()

    async def _ship(self, bulk: Bulk) -> None:
        try:
            await self._store(bulk)
        finally:
            self._slots.release()
        self.tracker.complete(bulk.ticket)
        await self.commit()
