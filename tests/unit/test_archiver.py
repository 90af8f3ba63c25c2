"""The archive sink's loop on an in-memory pipe and a real local directory: what is written
where, and what is committed when."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from libs.batching import BatchPolicy
from libs.formats import badrows, enriched
from libs.pipes import MemoryPipe, Record
from services.archive.archiver import Archiver
from services.archive.config import ArchivedKind, GoodFormat
from services.archive.lines import archive_line, extension
from services.archive.targets import LocalDirectory
from services.sinks.bulks import BadRow
from services.sinks.documents import UnreadableRecord
from tests.enriched_events import enriched_lines

# 2026-12-03T10:15:00Z
TEN_FIFTEEN_MS = 1_796_292_900_000
HOUR_MS = 3_600_000
KINDS: dict[str, ArchivedKind] = {"good": "good", "bad": "bad", "logs": "logs"}
EVENTS = list(enriched_lines(6))


class StoredBadRows:
    def __init__(self) -> None:
        self.rows: list[BadRow] = []

    async def store(self, bad_rows: Sequence[BadRow]) -> None:
        self.rows.extend(bad_rows)


def archiver(
    root: Path,
    bad_rows: StoredBadRows,
    *,
    max_bytes: int = 1_000_000,
    max_age_s: float = 60.0,
    good_format: GoodFormat = "tsv",
) -> Archiver:
    return Archiver(
        KINDS,
        LocalDirectory(root),
        bad_rows,
        prefix="",
        good_format=good_format,
        policy=BatchPolicy(max_bytes=max_bytes, max_age_s=max_age_s),
        max_concurrent=2,
        max_backoff_s=1.0,
    )


def records(
    topic: str, values: list[bytes], *, partition: int = 0, first: int = 0, at: int = TEN_FIFTEEN_MS
) -> list[Record]:
    return [
        Record(topic, partition, first + number, value, None, at)
        for number, value in enumerate(values)
    ]


def archived(root: Path) -> dict[str, list[bytes]]:
    """Every published file (path under root) with its lines."""
    return {
        str(path.relative_to(root)): gzip.decompress(path.read_bytes()).splitlines()
        for path in sorted(root.rglob("*.gz"))
    }


def file_names(root: Path, pattern: str = "**/*") -> list[str]:
    """The names of the files (or, with "*", of every entry) under `root`."""
    return [path.name for path in root.glob(pattern) if pattern == "*" or path.is_file()]


async def run(archive: Archiver, pipe: MemoryPipe, *batches: list[Record]) -> None:
    for batch in batches:
        pipe.feed(batch)
    pipe.close()
    await archive.run(pipe)


async def test_records_become_one_file_per_partition_and_hour_committed_after_it(
    tmp_path: Path,
) -> None:
    pipe, bad = MemoryPipe(), StoredBadRows()
    later = TEN_FIFTEEN_MS + HOUR_MS
    batch = [
        *records("good", EVENTS[:2]),
        *records("good", EVENTS[2:4], first=2, at=later),
        *records("good", EVENTS[4:], partition=1),
    ]
    await run(archiver(tmp_path, bad), pipe, batch)
    assert archived(tmp_path) == {
        "good/date=2026-12-03/hour=10/good-0-00000000000000000000.tsv.gz": EVENTS[:2],
        "good/date=2026-12-03/hour=11/good-0-00000000000000000002.tsv.gz": EVENTS[2:4],
        "good/date=2026-12-03/hour=10/good-1-00000000000000000000.tsv.gz": EVENTS[4:],
    }
    assert pipe.committed == {("good", 0): 4, ("good", 1): 2}
    assert bad.rows == []


async def test_a_full_file_is_closed_and_the_next_starts_at_the_next_offset(
    tmp_path: Path,
) -> None:
    pipe, bad = MemoryPipe(), StoredBadRows()
    lines = [b'{"n":%d,"pad":"%s"}' % (n, b"x" * 600) for n in range(5)]
    await run(archiver(tmp_path, bad, max_bytes=1024), pipe, records("logs", lines))
    files = archived(tmp_path)
    assert [path.rsplit("-", 1)[1] for path in files] == [
        "00000000000000000000.jsonl.gz",
        "00000000000000000002.jsonl.gz",
        "00000000000000000004.jsonl.gz",
    ]
    assert [line for content in files.values() for line in content] == lines


async def test_nothing_is_committed_before_its_file_is_published(tmp_path: Path) -> None:
    pipe, bad = MemoryPipe(), StoredBadRows()
    archive = archiver(tmp_path, bad, max_age_s=0.2)
    pipe.feed(records("good", EVENTS[:3]))
    running = asyncio.create_task(archive.run(pipe))
    await asyncio.sleep(0.05)
    assert pipe.committed == {}
    assert archived(tmp_path) == {}
    # Open, the file is there only under a hidden name.
    assert [name.startswith(".") for name in file_names(tmp_path)] == [True]
    await asyncio.sleep(0.5)
    assert pipe.committed == {("good", 0): 3}
    assert list(archived(tmp_path).values()) == [EVENTS[:3]]
    pipe.close()
    await running


async def test_a_rewrite_after_a_crash_replaces_the_files_it_overlaps(tmp_path: Path) -> None:
    """A first run closed files at offsets 0-1 and 2-5 but committed nothing (it died); the
    second closes at 0-3 and 4-5: each record once, in the files of the second run."""
    lines = [b'{"n":%d}' % n for n in range(6)]
    first = archiver(tmp_path, StoredBadRows())
    await run(first, MemoryPipe(), records("bad", lines[:2]))
    await run(first, MemoryPipe(), records("bad", lines[2:], first=2))
    assert len(archived(tmp_path)) == 2
    second = archiver(tmp_path, StoredBadRows())
    await run(second, MemoryPipe(), records("bad", lines[:4]))
    await run(second, MemoryPipe(), records("bad", lines[4:], first=4))
    files = archived(tmp_path)
    assert [path.rsplit("-", 1)[1] for path in files] == [
        "00000000000000000000.jsonl.gz",
        "00000000000000000004.jsonl.gz",
    ]
    assert [line for content in files.values() for line in content] == lines


async def test_unreadable_records_become_bad_rows_and_are_committed(tmp_path: Path) -> None:
    pipe, bad = MemoryPipe(), StoredBadRows()
    batch = [
        *records("good", [EVENTS[0], b"not\tan\tevent", EVENTS[1]]),
        *records("logs", [b"not json", b'{"message":"kept"}']),
    ]
    await run(archiver(tmp_path, bad), pipe, batch)
    assert [row.record.offset for row in bad.rows] == [1, 0]
    assert [badrows.type_of(orjson.loads(row.row)["schema"]) for row in bad.rows] == [
        "loader_parsing_error",
        "generic_error",
    ]
    assert list(archived(tmp_path).values()) == [[EVENTS[0], EVENTS[1]], [b'{"message":"kept"}']]
    assert pipe.committed == {("good", 0): 3, ("logs", 0): 2}


@pytest.mark.parametrize(
    ("kind", "good_format", "value", "line"),
    [
        ("good", "tsv", EVENTS[0], EVENTS[0] + b"\n"),
        (
            "good",
            "json",
            EVENTS[0],
            enriched.to_json_bytes(EVENTS[0], time_field="@timestamp").json + b"\n",
        ),
        ("bad", "tsv", b'{"schema":"s","data":{}}', b'{"schema":"s","data":{}}\n'),
        ("logs", "json", b'{\n  "message": "a"\n}', b'{"message":"a"}\n'),
    ],
)
def test_a_record_becomes_one_line(
    kind: ArchivedKind, good_format: GoodFormat, value: bytes, line: bytes
) -> None:
    record = Record(kind, 0, 0, value, None, TEN_FIFTEEN_MS)
    assert archive_line(kind, good_format, record) == line


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("good", b"\xff\xfe"),
        ("good", b"three\tcolumns\tonly"),
        ("bad", b"[1, 2]"),
        ("logs", b""),
    ],
)
def test_a_record_that_is_not_what_its_topic_holds_is_unreadable(
    kind: ArchivedKind, value: bytes
) -> None:
    with pytest.raises(UnreadableRecord) as raised:
        archive_line(kind, "tsv", Record(kind, 0, 0, value, None, TEN_FIFTEEN_MS))
    assert orjson.loads(raised.value.bad_row)["data"]["processor"]["artifact"].endswith("archive")


@pytest.mark.parametrize(
    ("kind", "good_format", "suffix"),
    [("good", "tsv", "tsv"), ("good", "json", "jsonl"), ("bad", "tsv", "jsonl")],
)
def test_the_extension_says_the_format(
    kind: ArchivedKind, good_format: GoodFormat, suffix: str
) -> None:
    assert extension(kind, good_format) == suffix


async def test_a_local_directory_deletes_the_hours_past_its_retention(tmp_path: Path) -> None:
    hours = ["date=2026-12-01/hour=23", "date=2026-12-02/hour=00", "date=2026-12-03/hour=09"]
    for topic in ("good", "bad"):
        for hour in hours:
            (tmp_path / topic / hour).mkdir(parents=True)
            (tmp_path / topic / hour / f"{topic}-0-{0:020d}.tsv.gz").write_bytes(b"")
    (tmp_path / "good" / "notes").mkdir()
    now = datetime(2026, 12, 3, 10, 15, tzinfo=UTC)
    deleted = await LocalDirectory(tmp_path).delete_expired(now, timedelta(days=1, hours=10))
    assert deleted == 2
    assert sorted(archived(tmp_path)) == [
        f"{topic}/{hour}/{topic}-0-{0:020d}.tsv.gz"
        for topic in ("bad", "good")
        for hour in hours[1:]
    ]
    # A day whose every hour went goes too; what is not a date is left alone.
    assert sorted(file_names(tmp_path / "good", "*")) == [
        "date=2026-12-02",
        "date=2026-12-03",
        "notes",
    ]
