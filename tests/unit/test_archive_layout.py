from datetime import UTC, datetime, timedelta

import pytest

from libs.batching import BatchPolicy
from services.archive.layout import (
    FileKey,
    expired_hours,
    file_path,
    first_offset_in,
    hour_directory,
    hour_in,
    hour_of,
    leftovers,
)

# 2026-12-03T10:15:00Z
TEN_FIFTEEN_MS = 1_796_292_900_000
TEN = hour_of(TEN_FIFTEEN_MS)


@pytest.mark.parametrize(
    ("timestamp_ms", "directory"),
    [
        (TEN_FIFTEEN_MS, "archive/good/date=2026-12-03/hour=10/"),
        (TEN_FIFTEEN_MS - 15 * 60_000, "archive/good/date=2026-12-03/hour=10/"),
        (TEN_FIFTEEN_MS - 15 * 60_000 - 1, "archive/good/date=2026-12-03/hour=09/"),
        (TEN_FIFTEEN_MS + 14 * 3_600_000, "archive/good/date=2026-12-04/hour=00/"),
        (0, "archive/good/date=1970-01-01/hour=00/"),
    ],
)
def test_files_are_partitioned_by_the_utc_hour_of_their_records(
    timestamp_ms: int, directory: str
) -> None:
    assert hour_directory("archive/", "good", hour_of(timestamp_ms)) == directory


@pytest.mark.parametrize(
    ("prefix", "key", "extension", "path"),
    [
        (
            "",
            FileKey("good", 0, TEN, 0),
            "tsv",
            "good/date=2026-12-03/hour=10/good-0-00000000000000000000.tsv.gz",
        ),
        (
            "furrow/",
            FileKey("bad.v1", 11, TEN, 1234567),
            "jsonl",
            "furrow/bad.v1/date=2026-12-03/hour=10/bad.v1-11-00000000000001234567.jsonl.gz",
        ),
    ],
)
def test_a_file_is_named_by_topic_partition_and_first_offset(
    prefix: str, key: FileKey, extension: str, path: str
) -> None:
    assert file_path(prefix, key, extension) == path


@pytest.mark.parametrize(
    ("name", "partition", "offset"),
    [
        ("good-0-00000000000000000042.tsv.gz", 0, 42),
        ("good-1-00000000000000000042.tsv.gz", 0, None),
        ("good-10-00000000000000000042.tsv.gz", 1, None),
        ("good-0-42.tsv.gz", 0, None),
        ("good-0-0000000000000000004x.tsv.gz", 0, None),
        (".good-0-00000000000000000042.tsv.gz.1f2e.partial", 0, None),
        ("good-0-00000000000000000042.tsv.gz-edde4b00-2b88-419e-aad1-6423dc3e57ae", 0, None),
        ("other-0-00000000000000000042.tsv.gz", 0, None),
    ],
)
def test_the_first_offset_is_read_back_only_from_a_file_of_the_partition(
    name: str, partition: int, offset: int | None
) -> None:
    assert first_offset_in(name, "good", partition) == offset


def name(partition: int, offset: int) -> str:
    return f"good-{partition}-{offset:020d}.tsv.gz"


@pytest.mark.parametrize(
    ("first", "last", "existing", "replaced"),
    [
        # The file of the same name is overwritten, not a leftover.
        (100, 199, [name(0, 100)], []),
        (100, 199, [name(0, 100), name(0, 150), name(0, 199)], [name(0, 150), name(0, 199)]),
        # Before or after its records, or of another partition: another file's business.
        (100, 199, [name(0, 50), name(0, 200), name(1, 150)], []),
        (7, 7, [name(0, 7), name(0, 8)], []),
    ],
)
def test_leftovers_are_files_of_the_partition_starting_inside_the_new_file(
    first: int, last: int, existing: list[str], replaced: list[str]
) -> None:
    assert leftovers(existing, FileKey("good", 0, TEN, first), last) == replaced


@pytest.mark.parametrize(
    ("size_bytes", "full"), [(0, False), (1023, False), (1024, True), (5000, True)]
)
def test_a_file_is_full_at_max_bytes_before_compression(size_bytes: int, full: bool) -> None:
    assert BatchPolicy(max_bytes=1024, max_age_s=60).is_full(size_bytes) is full


@pytest.mark.parametrize(("now", "due"), [(100.0, False), (159.9, False), (160.0, True)])
def test_a_file_is_due_at_max_age(now: float, due: bool) -> None:
    assert BatchPolicy(max_bytes=1024, max_age_s=60).is_due(started=100.0, now=now) is due


NOW = datetime(2026, 12, 3, 10, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("retention", "expired"),
    [
        # The hour 09:00-10:00 is wholly older than 15 minutes only at 10:15 or later.
        (timedelta(minutes=15), [TEN - 2, TEN - 1]),
        (timedelta(minutes=16), [TEN - 2]),
        (timedelta(hours=1, minutes=15), [TEN - 2]),
        (timedelta(days=1), []),
    ],
)
def test_an_hour_expires_once_its_last_moment_is_older_than_the_retention(
    retention: timedelta, expired: list[int]
) -> None:
    assert expired_hours([TEN - 2, TEN - 1, TEN], NOW, retention) == expired


@pytest.mark.parametrize(
    ("names", "hour"),
    [
        (("date=2026-12-03", "hour=10"), TEN),
        (("date=2026-12-03", "hour=24"), None),
        (("2026-12-03", "hour=10"), None),
        (("date=2026-12-03", "10"), None),
    ],
)
def test_an_hour_directory_is_read_back(names: tuple[str, str], hour: int | None) -> None:
    assert hour_in(names) == hour
