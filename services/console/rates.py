"""Records per second in and out of each stage, from two looks at Kafka's offsets: a topic's end
offsets grow by what its writers add, a consumer group's committed offsets by what its stage has
finished. A raw record may hold several events, so these are records, not events."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Two looks closer than this would divide by a time as short as the wait for Kafka's answer.
MIN_INTERVAL_S = 1.0


@dataclass(frozen=True)
class OffsetsSample:
    """Offsets per partition at one moment: each topic's end, and each group's committed offset
    where it is known."""

    taken: float
    ends: dict[str, dict[int, int]]
    committed: dict[str, dict[int, int]]


def offsets_sample(lags: list[dict[str, Any]], taken: float) -> OffsetsSample:
    """The offsets of `consumer_lags`'s rows, looked at when the monotonic clock read `taken`."""
    ends: dict[str, dict[int, int]] = {}
    committed: dict[str, dict[int, int]] = {}
    for group in lags:
        ends[group["topic"]] = {row["partition"]: row["end"] for row in group["partitions"]}
        # A group that has committed nothing in an empty partition has nothing to commit: it
        # is at 0. Elsewhere, where it would start is not known.
        committed[group["group_id"]] = {
            row["partition"]: row["committed"] if row["committed"] is not None else 0
            for row in group["partitions"]
            if row["committed"] is not None or row["end"] == 0
        }
    return OffsetsSample(taken, ends, committed)


def per_second(
    before: Mapping[int, int], after: Mapping[int, int], interval_s: float
) -> float | None:
    """How fast the offsets of the partitions known at both looks grew; None when no partition is
    known at both, or one went backwards (its topic was made anew, or its group reset)."""
    shared = before.keys() & after.keys()
    if not shared or interval_s <= 0:
        return None
    growth = [after[partition] - before[partition] for partition in shared]
    if min(growth) < 0:
        return None
    return sum(growth) / interval_s


@dataclass(frozen=True)
class Rates:
    """Records per second written to each topic and committed by each group since the earlier
    look (`interval_s` before), or, with every rate None, why there are none (`note`)."""

    interval_s: float | None
    note: str | None
    written: dict[str, float | None]
    committed: dict[str, float | None]


def rates(earlier: OffsetsSample | None, now: OffsetsSample) -> Rates:
    """The rates between two looks; none on the first look or one too soon after the earlier."""
    if earlier is None:
        return _no_rates(now, "first look since the console started: reload for rates")
    interval_s = now.taken - earlier.taken
    if interval_s < MIN_INTERVAL_S:
        return _no_rates(
            now, f"the previous look was {interval_s:.1f} s ago: reload in a second for rates"
        )
    return Rates(
        interval_s,
        None,
        {
            topic: per_second(earlier.ends.get(topic, {}), ends, interval_s)
            for topic, ends in now.ends.items()
        },
        {
            group: per_second(earlier.committed.get(group, {}), committed, interval_s)
            for group, committed in now.committed.items()
        },
    )


def _no_rates(now: OffsetsSample, note: str) -> Rates:
    return Rates(
        None,
        note,
        dict.fromkeys(now.ends, None),
        dict.fromkeys(now.committed, None),
    )
