"""Percentiles of the good sink's collector-to-indexed histogram, from its bucket counts."""

from __future__ import annotations

import math

import pytest
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from services.console.latency import (
    HISTOGRAM,
    buckets_since,
    collector_to_indexed,
    histogram_buckets,
    percentile,
)

INF = math.inf


@pytest.mark.parametrize(
    ("buckets", "percent", "expected"),
    [
        # Ten observations, all at most 1 s: the median is half way through 0..1.
        ({1.0: 10, 2.0: 10, INF: 10}, 50, 0.5),
        # Four in 0..1, six in 1..2: the 95th is 0.95*10 = 9.5th, 5.5 of 6 into 1..2.
        ({1.0: 4, 2.0: 10, INF: 10}, 95, 1 + 5.5 / 6),
        ({0.1: 0, 0.5: 50, 1.0: 100, INF: 100}, 50, 0.5),
        ({0.1: 0, 0.5: 50, 1.0: 100, INF: 100}, 99, 0.5 + 0.5 * 49 / 50),
        # Past the highest finite bound nothing more is known than that bound.
        ({1.0: 1, 2.0: 2, INF: 100}, 50, 2.0),
        # Empty buckets below the observations do not pull the value down.
        ({1.0: 0, 2.0: 0, 4.0: 8, INF: 8}, 50, 3.0),
        ({1.0: 0, INF: 0}, 50, None),
        ({}, 99, None),
    ],
)
def test_a_percentile_is_interpolated_within_its_bucket(
    buckets: dict[float, float], percent: float, expected: float | None
) -> None:
    found = percentile(buckets, percent)
    assert found == (pytest.approx(expected) if expected is not None else None)


@pytest.mark.parametrize(
    ("earlier", "now", "expected"),
    [
        ({1.0: 2, INF: 3}, {1.0: 5, INF: 9}, {1.0: 3, INF: 6}),
        ({1.0: 2, INF: 3}, {1.0: 2, INF: 3}, {1.0: 0, INF: 0}),
        # Nothing observed yet at the earlier look: the histogram had no buckets.
        ({}, {1.0: 5, INF: 9}, {1.0: 5, INF: 9}),
        # The sink restarted: its counts began again from zero.
        ({1.0: 200, INF: 300}, {1.0: 5, INF: 9}, None),
        ({1.0: 2, INF: 3}, {1.0: 5, 2.0: 7, INF: 9}, None),
    ],
)
def test_the_buckets_since_an_earlier_look(
    earlier: dict[float, float], now: dict[float, float], expected: dict[float, float] | None
) -> None:
    assert buckets_since(earlier, now) == expected


def test_the_buckets_are_read_from_a_metrics_page_and_summed_over_labels() -> None:
    registry = CollectorRegistry()
    histogram = Histogram(HISTOGRAM, "latency", ["index"], buckets=(0.5, 2), registry=registry)
    for value in (0.2, 0.3, 1.0, 5.0):
        histogram.labels("good").observe(value)
    histogram.labels("other").observe(0.1)
    Histogram("furrow_sink_bulk_seconds", "bulks", registry=registry).observe(0.1)
    text = generate_latest(registry).decode()
    assert histogram_buckets(text) == {0.5: 3.0, 2.0: 4.0, INF: 5.0}
    assert histogram_buckets("") == {}


@pytest.mark.parametrize(
    ("earlier", "age_s", "over", "observations", "p50"),
    [
        ({1.0: 10, 2.0: 10, INF: 10}, 5.0, "the last 5.0 s", 10, 1.5),
        (None, None, "the good sink's whole life (no earlier look at it)", 20, 1.0),
        (
            {1.0: 50, 2.0: 90, INF: 90},
            5.0,
            "the good sink's whole life (it restarted since)",
            20,
            1.0,
        ),
    ],
)
def test_recent_percentiles_or_those_of_the_whole_life_saying_which(
    earlier: dict[float, float] | None,
    age_s: float | None,
    over: str,
    observations: int,
    p50: float,
) -> None:
    found = collector_to_indexed(earlier, {1.0: 10, 2.0: 20, INF: 20}, age_s)
    assert (found["over"], found["observations"], found["p50_s"]) == (over, observations, p50)
    assert found["over_s"] == (age_s if over.startswith("the last") else None)
    assert found["p50_s"] <= found["p95_s"] <= found["p99_s"] <= 2.0
