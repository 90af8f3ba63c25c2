"""Which answers of a destination are retried, and how long the forwarder waits between sends."""

from __future__ import annotations

import pytest

from services.forward.retries import RetryPolicy, Verdict, retry_after_s, verdict_of_status


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (200, Verdict.DELIVERED),
        (202, Verdict.DELIVERED),
        (204, Verdict.DELIVERED),
        (400, Verdict.REFUSED),
        (401, Verdict.REFUSED),
        (403, Verdict.REFUSED),
        (404, Verdict.REFUSED),
        (413, Verdict.REFUSED),
        (422, Verdict.REFUSED),
        (408, Verdict.RETRY),
        (425, Verdict.RETRY),
        (429, Verdict.RETRY),
        (500, Verdict.RETRY),
        (502, Verdict.RETRY),
        (503, Verdict.RETRY),
        (504, Verdict.RETRY),
        (301, Verdict.REFUSED),
    ],
)
def test_verdict_of_status(status: int, verdict: Verdict) -> None:
    assert verdict_of_status(status) is verdict


@pytest.mark.parametrize(
    ("policy", "waits"),
    [
        (RetryPolicy(max_attempts=1, max_wait_s=30), []),
        (RetryPolicy(max_attempts=4, max_wait_s=30), [0.5, 1.0, 2.0]),
        (RetryPolicy(max_attempts=8, max_wait_s=5), [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0]),
        (RetryPolicy(max_attempts=3, max_wait_s=30, first_wait_s=0.01), [0.01, 0.02]),
    ],
)
def test_waits_double_up_to_the_maximum_until_the_budget_is_spent(
    policy: RetryPolicy, waits: list[float]
) -> None:
    planned = []
    attempt = 2
    while (wait := policy.wait_before(attempt)) is not None:
        planned.append(wait)
        attempt += 1
    assert planned == waits
    assert attempt == policy.max_attempts + 1


@pytest.mark.parametrize(
    ("attempt", "asked_s", "wait_s"),
    [
        (2, None, 0.5),
        (2, 3.0, 3.0),
        (5, 1.0, 4.0),
        (2, 120.0, 30.0),
        (13, 3.0, None),
    ],
)
def test_a_retry_after_lengthens_the_wait_up_to_the_maximum(
    attempt: int, asked_s: float | None, wait_s: float | None
) -> None:
    assert RetryPolicy(max_attempts=12, max_wait_s=30).wait_before(attempt, asked_s) == wait_s


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, None),
        ("30", 30.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("-1", None),
        ("inf", None),
        ("nan", None),
        ("Wed, 21 Oct 2026 07:28:00 GMT", None),
    ],
)
def test_retry_after_in_seconds(header: str | None, seconds: float | None) -> None:
    assert retry_after_s(header) == seconds
