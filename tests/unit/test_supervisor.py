import pytest

from services.supervisor import FIRST_BACKOFF_S, MAX_BACKOFF_S, STABLE_AFTER_S, next_backoff


@pytest.mark.parametrize(
    ("previous", "ran_for", "expected"),
    [
        (0.0, 0.1, FIRST_BACKOFF_S),
        (FIRST_BACKOFF_S, 0.1, 2 * FIRST_BACKOFF_S),
        (8.0, 5.0, 16.0),
        (MAX_BACKOFF_S, 1.0, MAX_BACKOFF_S),
        (20.0, 1.0, MAX_BACKOFF_S),
        (MAX_BACKOFF_S, STABLE_AFTER_S, 0.0),
        (0.0, STABLE_AFTER_S + 1, 0.0),
    ],
)
def test_restart_backoff(previous: float, ran_for: float, expected: float) -> None:
    assert next_backoff(previous, ran_for) == expected
