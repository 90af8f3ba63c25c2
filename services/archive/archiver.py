"""The archive sink's loop: records in, gzip files out, offsets committed once the file holding
a record (and every earlier file of its partition) is published.

Each partition has at most one open file; a record of another hour, a full file or an old one
closes it. Closed files are published in the background, up to `max_concurrent` at once; while
all are busy, reading waits, so memory and disk stay bounded. A record that cannot be archived
becomes a bad row, committed once the bad row is durable.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping

from prometheus_client import Counter, Histogram

from libs.backoff import Backoff
from libs.batching import BatchPolicy
from libs.pipes import Record, Source
from services.archive.config import ArchivedKind, GoodFormat
from services.archive.layout import FileKey, file_path, hour_of
from services.archive.lines import archive_line, extension, unexpected_error_row
from services.archive.targets import ArchiveTarget, PendingFile, PublishError
from services.sinks.bulks import BadRow, CommitTracker
from services.sinks.documents import UnreadableRecord
from services.sinks.loader import BadRowOutlet

logger = logging.getLogger(__name__)

# Records archived between two looks at the event loop.
YIELD_EVERY = 200

RECORDS = Counter("furrow_archive_records_total", "Records written to archive files", ["topic"])
FILES = Counter("furrow_archive_files_total", "Archive files published", ["topic"])
BYTES = Counter("furrow_archive_bytes_total", "Compressed bytes published", ["topic"])
BAD_ROWS = Counter("furrow_archive_bad_rows_total", "Records that became bad rows", ["topic"])
RETRIES = Counter("furrow_archive_publish_retries_total", "Publications tried again", ["topic"])
PUBLISH_SECONDS = Histogram(
    "furrow_archive_publish_seconds", "Time to publish a file, retries included", ["topic"]
)


class OpenFile:
    def __init__(self, key: FileKey, path: str, pending: PendingFile, ticket: int, now: float):
        self.key = key
        self.path = path
        self.pending = pending
        self.ticket = ticket
        self.opened_at = now
        self.last_offset = key.first_offset


class Archiver:
    def __init__(
        self,
        kinds: Mapping[str, ArchivedKind],
        target: ArchiveTarget,
        bad_rows: BadRowOutlet,
        *,
        prefix: str,
        good_format: GoodFormat,
        policy: BatchPolicy,
        max_concurrent: int,
        max_backoff_s: float,
    ) -> None:
        self._kinds = kinds
        self._target = target
        self._bad_rows = bad_rows
        self._prefix = prefix
        self._good_format = good_format
        self._policy = policy
        self._max_backoff_s = max_backoff_s
        self._slots = asyncio.Semaphore(max_concurrent)
        self._committing = asyncio.Lock()
        self._tracker = CommitTracker()
        self._tickets = 0
        self._open: dict[tuple[str, int], OpenFile] = {}
        self._failing: str | None = None

    def health_problem(self) -> str | None:
        return self._failing

    async def run(self, source: Source) -> None:
        """Archive every record of `source` until it closes, then publish the open files and
        return once all is published and committed. Errors that retrying cannot fix propagate,
        leaving the records of unpublished files uncommitted for the next run."""
        async with asyncio.TaskGroup() as publications:
            timer = publications.create_task(self._close_when_due(source, publications))
            async for batch in source.batches():
                await self._archive(batch, source, publications)
            timer.cancel()
            for open_file in list(self._open.values()):
                await self._close(open_file, source, publications)

    async def _archive(
        self, batch: list[Record], source: Source, publications: asyncio.TaskGroup
    ) -> None:
        bad_rows: list[BadRow] = []
        bad_ticket = self._next_ticket()
        for number, record in enumerate(batch, 1):
            try:
                line = archive_line(self._kinds[record.topic], self._good_format, record)
            except UnreadableRecord as unreadable:
                bad_rows.append(BadRow(record, unreadable.bad_row))
                self._tracker.add(bad_ticket, record)
                continue
            except Exception as error:
                # A bug, not the record's fault: the record goes to bad (to be replayed once
                # fixed) rather than crash the sink every time it is read again.
                logger.exception("a record made the archive sink fail; it goes to bad")
                bad_rows.append(BadRow(record, unexpected_error_row(record, error)))
                self._tracker.add(bad_ticket, record)
                continue
            hour = hour_of(record.timestamp_ms)
            open_file = self._open.get((record.topic, record.partition))
            if open_file is not None and open_file.key.hour != hour:
                await self._close(open_file, source, publications)
                open_file = None
            if open_file is None:
                open_file = self._new_file(record, hour)
            open_file.pending.write(line)
            open_file.last_offset = record.offset
            self._tracker.add(open_file.ticket, record)
            RECORDS.labels(record.topic).inc()
            if self._policy.is_full(open_file.pending.size_bytes):
                await self._close(open_file, source, publications)
            elif number % YIELD_EVERY == 0:
                # Compressing is CPU work: let publications finish and commit meanwhile.
                await asyncio.sleep(0)
        if bad_rows:
            await self._bad_rows.store(bad_rows)
            for bad in bad_rows:
                BAD_ROWS.labels(bad.record.topic).inc()
            logger.warning("records not archived became bad rows", extra={"records": len(bad_rows)})
        self._tracker.complete(bad_ticket)
        await self._commit_ready(source)

    def _next_ticket(self) -> int:
        self._tickets += 1
        return self._tickets

    def _new_file(self, record: Record, hour: int) -> OpenFile:
        key = FileKey(record.topic, record.partition, hour, record.offset)
        path = file_path(self._prefix, key, extension(self._kinds[record.topic], self._good_format))
        open_file = OpenFile(
            key, path, self._target.new_file(path), self._next_ticket(), time.monotonic()
        )
        self._open[(record.topic, record.partition)] = open_file
        return open_file

    async def _close_when_due(self, source: Source, publications: asyncio.TaskGroup) -> None:
        tick = min(1.0, self._policy.max_age_s / 4)
        while True:
            await asyncio.sleep(tick)
            now = time.monotonic()
            for open_file in list(self._open.values()):
                if self._policy.is_due(open_file.opened_at, now):
                    await self._close(open_file, source, publications)

    async def _close(
        self, open_file: OpenFile, source: Source, publications: asyncio.TaskGroup
    ) -> None:
        """Publish `open_file` in the background as soon as a slot is free."""
        place = (open_file.key.topic, open_file.key.partition)
        if self._open.get(place) is not open_file:
            return
        del self._open[place]
        await self._slots.acquire()
        publications.create_task(self._publish(open_file, source))

    async def _publish(self, open_file: OpenFile, source: Source) -> None:
        topic = open_file.key.topic
        backoff = Backoff(self._max_backoff_s)
        try:
            with PUBLISH_SECONDS.labels(topic).time():
                while True:
                    try:
                        await self._target.publish(
                            open_file.pending, open_file.path, open_file.key, open_file.last_offset
                        )
                        break
                    except PublishError as error:
                        self._failing = f"archive files not published: {error}"
                        logger.warning(
                            "publishing failed, retrying",
                            extra={"file": open_file.path, "error": str(error)},
                        )
                        RETRIES.labels(topic).inc()
                        await backoff.wait()
        finally:
            self._slots.release()
        self._failing = None
        FILES.labels(topic).inc()
        BYTES.labels(topic).inc(open_file.pending.compressed_bytes)
        logger.info("file published", extra={"file": open_file.path})
        self._tracker.complete(open_file.ticket)
        await self._commit_ready(source)

    async def _commit_ready(self, source: Source) -> None:
        # One commit at a time, each taking whatever is ready then: commits never go backwards.
        async with self._committing:
            if ready := self._tracker.committable():
                await source.commit(ready)
