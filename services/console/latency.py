"""The time from collector to indexed, as percentiles of the good sink's histogram
`furrow_sink_collector_to_indexed_seconds`: the bucket counts of its `/metrics`, less those of an
earlier look for the recent ones."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

HISTOGRAM = "furrow_sink_collector_to_indexed_seconds"
PERCENTILES = (50, 95, 99)

Buckets = dict[float, float]
"""A histogram: the count of observations at most each upper bound (`le`), `math.inf` included."""


def histogram_buckets(metrics_text: str, name: str = HISTOGRAM) -> Buckets:
    """The buckets of histogram `name` in a Prometheus text exposition, summed over its label
    sets; empty if it has none."""
    buckets: Buckets = {}
    for family in text_string_to_metric_families(metrics_text):
        if family.name != name:
            continue
        for sample in family.samples:
            if sample.name == f"{name}_bucket":
                bound = float(sample.labels["le"])
                buckets[bound] = buckets.get(bound, 0.0) + sample.value
    return buckets


def buckets_since(earlier: Mapping[float, float], now: Mapping[float, float]) -> Buckets | None:
    """The observations made between two looks; None if a count went down (the sink restarted)
    or the bounds differ. An earlier look with no buckets is one before the first observation."""
    if not earlier:
        return dict(now)
    if earlier.keys() != now.keys():
        return None
    since = {bound: now[bound] - earlier[bound] for bound in now}
    return None if any(count < 0 for count in since.values()) else since


def percentile(buckets: Mapping[float, float], percent: float) -> float | None:
    """The value below which `percent` % of the observations fall, interpolated linearly within
    its bucket (as Prometheus's histogram_quantile does: from 0 in the first bucket, and the
    highest finite bound when it falls in the last, unbounded one); None without observations."""
    bounds = sorted(buckets)
    total = buckets[bounds[-1]] if bounds else 0.0
    if total <= 0:
        return None
    rank = total * percent / 100
    lower, below = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank and count > below:
            if math.isinf(bound):
                return lower
            return lower + (bound - lower) * (rank - below) / (count - below)
        lower, below = bound, count
    return lower


@dataclass(frozen=True)
class IndexedLatencySource:
    """Where the good sink serves its histogram, and how soon its index makes a document
    searchable once indexed (its `refresh_interval`)."""

    metrics_url: str
    refresh_interval: str


def collector_to_indexed(
    earlier: Buckets | None, now: Buckets, earlier_age_s: float | None
) -> dict[str, Any]:
    """The percentiles of the observations since the earlier look, taken `earlier_age_s` ago, or
    of every observation since the sink started when there is no earlier look to subtract."""
    recent = buckets_since(earlier, now) if earlier is not None else None
    if recent is not None and earlier_age_s is not None:
        buckets, over, over_s = recent, f"the last {earlier_age_s:.1f} s", earlier_age_s
    elif earlier is None or earlier_age_s is None:
        buckets, over, over_s = now, "the good sink's whole life (no earlier look at it)", None
    else:
        buckets, over, over_s = now, "the good sink's whole life (it restarted since)", None
    return {
        "over": over,
        "over_s": over_s,
        "observations": int(buckets.get(math.inf, 0)),
        **{f"p{percent}_s": percentile(buckets, percent) for percent in PERCENTILES},
    }
