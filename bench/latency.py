"""The arithmetic of the whole-pipeline benchmark's time series: percentiles of marker latencies,
per-second rates from cumulative counters, CPU shares from clock ticks and consumer lag from
offsets. Pure."""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Mapping, Sequence
from typing import NamedTuple


def percentile(values: Sequence[float], percent: float) -> float:
    """The `percent`-th percentile of `values`, interpolated linearly between closest ranks
    (numpy's default), so that p50 of [1, 2, 3, 4] is 2.5."""
    if not values:
        raise ValueError("no values")
    if not 0 <= percent <= 100:
        raise ValueError(f"percent {percent} is not within 0-100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * percent / 100
    below, above = math.floor(rank), math.ceil(rank)
    return ordered[below] + (ordered[above] - ordered[below]) * (rank - below)


def rates(samples: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Per-interval rates of a cumulative counter sampled as (time s, total): one (end time,
    units per second) per interval. A counter going down (a restarted process) counts as 0."""
    return [
        (later_s, max(0.0, later_total - earlier_total) / (later_s - earlier_s))
        for (earlier_s, earlier_total), (later_s, later_total) in itertools.pairwise(samples)
        if later_s > earlier_s
    ]


def cpu_percent(seconds_before: float, seconds_after: float, elapsed_s: float) -> float:
    """A process's CPU use over an interval from its CPU time before and after (100 = one
    core busy all the interval)."""
    if elapsed_s <= 0:
        raise ValueError("the interval must have a length")
    return 100.0 * (seconds_after - seconds_before) / elapsed_s


def consumer_lag(ends: Mapping[int, int], committed: Mapping[int, int | None]) -> int:
    """Records a consumer group has still to commit, over the partitions of one topic: each
    partition's end offset less the group's committed offset, the whole partition while the group
    has committed nothing on it (our topics are new, so their logs start at offset 0)."""
    return sum(max(0, end - (committed.get(partition) or 0)) for partition, end in ends.items())


def by_second(
    moments: Sequence[tuple[float, float]], width_s: float = 1.0
) -> list[tuple[float, list[float]]]:
    """Values grouped by the time window they fall in, as (window start s, values), in order:
    (time s, value) pairs such as (marker searchable at, its latency)."""
    windows: dict[int, list[float]] = {}
    for moment_s, value in moments:
        windows.setdefault(math.floor(moment_s / width_s), []).append(value)
    return [(index * width_s, windows[index]) for index in sorted(windows)]


def steady_rate(samples: Sequence[tuple[float, float]], from_s: float, to_s: float) -> float:
    """A stage's throughput while the load runs, from its cumulative count sampled as (time s,
    total): the least-squares slope of the samples from `from_s` to `to_s`. A stage that keeps up
    scores the offered rate whatever its latency; one that falls behind, what it can do. (The
    total over the time to reach it would count the latency as lost throughput: a stage done one
    second after a 60 s load would score 60/61 of the offered rate.)"""
    window = [(moment_s, total) for moment_s, total in samples if from_s <= moment_s <= to_s]
    if len(window) < 2:
        raise ValueError(f"fewer than two samples between {from_s} s and {to_s} s")
    moments, totals = zip(*window, strict=True)
    return statistics.linear_regression(moments, totals).slope


def drained_after(samples: Sequence[tuple[float, float]], load_end_s: float) -> float:
    """Seconds from the load's end to the first sample with a stage's final total."""
    if not samples:
        raise ValueError("no samples")
    final = samples[-1][1]
    return next(moment_s for moment_s, total in samples if total >= final) - load_end_s


def interval_means(
    sums: Sequence[tuple[float, float]], counts: Sequence[tuple[float, float]]
) -> list[tuple[float, float]]:
    """Per-interval means of a Prometheus summary or histogram sampled as cumulative `_sum` and
    `_count` at the same moments: (end time, mean of what was observed in the interval), for
    intervals in which something was."""
    return [
        (later_s, (later_sum - earlier_sum) / (later_count - earlier_count))
        for ((_, earlier_sum), (later_s, later_sum)), ((_, earlier_count), (_, later_count)) in zip(
            itertools.pairwise(sums), itertools.pairwise(counts), strict=True
        )
        if later_count > earlier_count
    ]


def spaced(points: Sequence[tuple[float, float]], gap_s: float) -> list[tuple[float, float]]:
    """The first of `points` (time s, value) and each next one at least `gap_s` after the last
    kept, plus the last point: windows of about `gap_s` for rates of bursty counters."""
    kept: list[tuple[float, float]] = []
    for point in points:
        if not kept or point[0] - kept[-1][0] >= gap_s:
            kept.append(point)
    if points and kept[-1] != points[-1]:
        kept.append(points[-1])
    return kept


class JvmTimes(NamedTuple):
    """CPU seconds a JVM has used so far: in all, and in its JIT compiler threads."""

    cpu_s: float
    jit_s: float


def compiling_shares(
    before: Mapping[str, JvmTimes], after: Mapping[str, JvmTimes]
) -> dict[str, float]:
    """Per JVM, the share of the CPU it used between two readings that went to JIT compiling
    (0 for one that used none)."""
    shares = {}
    for name, earlier in before.items():
        used = after[name].cpu_s - earlier.cpu_s
        shares[name] = (after[name].jit_s - earlier.jit_s) / used if used > 0 else 0.0
    return shares
