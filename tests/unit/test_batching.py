from __future__ import annotations

import pytest

from libs.batching import BatchPolicy

COUNTED = BatchPolicy(max_bytes=100, max_age_s=2.0, max_count=3)
UNCOUNTED = BatchPolicy(max_bytes=100, max_age_s=2.0)


@pytest.mark.parametrize(
    ("policy", "size_bytes", "count", "full", "fits"),
    [
        (COUNTED, 0, 0, False, True),
        (COUNTED, 99, 2, False, True),
        (COUNTED, 100, 1, True, True),  # exactly full still fits
        (COUNTED, 101, 1, True, False),
        (COUNTED, 10, 3, True, True),
        (COUNTED, 10, 4, True, False),
        (UNCOUNTED, 10, 1_000_000, False, True),
        (UNCOUNTED, 100, 1, True, True),
    ],
)
def test_full_and_fits_by_bytes_or_count(
    policy: BatchPolicy, size_bytes: int, count: int, full: bool, fits: bool
) -> None:
    assert policy.is_full(size_bytes, count) is full
    assert policy.fits(size_bytes, count) is fits


@pytest.mark.parametrize(
    ("now", "due_in", "due"),
    [(10.0, 2.0, False), (11.5, 0.5, False), (12.0, 0.0, True), (13.0, -1.0, True)],
)
def test_due_by_age(now: float, due_in: float, due: bool) -> None:
    assert COUNTED.due_in(started=10.0, now=now) == pytest.approx(due_in)
    assert COUNTED.is_due(started=10.0, now=now) is due
