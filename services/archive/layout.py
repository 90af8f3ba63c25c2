"""Where an archive file goes and when it is closed: pure functions of the records in it.

A file holds consecutive records of one partition whose Kafka timestamps fall in one UTC hour:

    <prefix><topic>/date=YYYY-MM-DD/hour=HH/<topic>-<partition>-<first offset, 20 digits>.<ext>.gz

Named by its first offset, a file written again after a crash (from the group's committed offset)
takes the name of the file it replaces. A file of an earlier run may have been closed at another
offset (by age, say); such a leftover starts at an offset inside a file written now, in the same
hour directory, and is deleted once that file is in place (`leftovers`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

OFFSET_DIGITS = 20


@dataclass(frozen=True, slots=True)
class FileKey:
    """What names an archive file."""

    topic: str
    partition: int
    # The UTC hour of its records, as whole hours since the epoch.
    hour: int
    first_offset: int


def hour_of(timestamp_ms: int) -> int:
    """The UTC hour (since the epoch) of a Kafka timestamp."""
    return timestamp_ms // 3_600_000


def hour_directory(prefix: str, topic: str, hour: int) -> str:
    """The directory (or key prefix) of `topic`'s files of `hour`, ending with `/`."""
    moment = datetime.fromtimestamp(hour * 3600, UTC)
    return f"{prefix}{topic}/date={moment:%Y-%m-%d}/hour={moment:%H}/"


def file_stem(topic: str, partition: int) -> str:
    """What every file name of a partition starts with."""
    return f"{topic}-{partition}-"


def file_name(key: FileKey, extension: str) -> str:
    return (
        f"{file_stem(key.topic, key.partition)}{key.first_offset:0{OFFSET_DIGITS}d}.{extension}.gz"
    )


def file_path(prefix: str, key: FileKey, extension: str) -> str:
    """The file's path under the target, `prefix` included."""
    return hour_directory(prefix, key.topic, key.hour) + file_name(key, extension)


def first_offset_in(name: str, topic: str, partition: int) -> int | None:
    """The first offset of a file of `topic`'s `partition` named `name`; None for any other
    name (another partition, a file being written: ours, or an S3-compatible store's own partial
    object, which s3proxy's filesystem backend lists as `<name>-<uuid>`)."""
    stem = file_stem(topic, partition)
    if not name.startswith(stem):
        return None
    digits = name[len(stem) : len(stem) + OFFSET_DIGITS]
    rest = name[len(stem) + OFFSET_DIGITS :]
    if (
        len(digits) != OFFSET_DIGITS
        or not digits.isdigit()
        or not rest.startswith(".")
        or not rest.endswith(".gz")
    ):
        return None
    return int(digits)


def leftovers(names: Iterable[str], key: FileKey, last_offset: int) -> list[str]:
    """Of the file names in a file's hour directory, those of files its records replace: files of
    the same partition whose first offset falls after its own and up to its last."""
    found = []
    for name in names:
        first = first_offset_in(name, key.topic, key.partition)
        if first is not None and key.first_offset < first <= last_offset:
            found.append(name)
    return found


def expired_hours(hours: Iterable[int], now: datetime, retention: timedelta) -> list[int]:
    """The hours whose every record is older than `retention` at `now`."""
    limit = now - retention
    return [hour for hour in hours if datetime.fromtimestamp((hour + 1) * 3600, UTC) <= limit]


def hour_in(directory_names: tuple[str, str]) -> int | None:
    """The hour of a `date=YYYY-MM-DD`, `hour=HH` pair of directory names; None if they are not."""
    date_name, hour_name = directory_names
    if not date_name.startswith("date=") or not hour_name.startswith("hour="):
        return None
    try:
        moment = datetime.strptime(f"{date_name[5:]} {hour_name[5:]}", "%Y-%m-%d %H")
    except ValueError:
        return None
    return int(moment.replace(tzinfo=UTC).timestamp()) // 3600
