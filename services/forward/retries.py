"""What to do with a batch a destination did not take: the answers worth another try, and how
long to wait before it."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

# Statuses that say "later": a timeout, too early, too many requests.
_TRY_LATER: Final = frozenset({408, 425, 429})


class Verdict(enum.Enum):
    DELIVERED = "delivered"
    # Worth sending again after a while: the server is busy, down or unreachable.
    RETRY = "retry"
    # Refused for what it holds: sent again, it would be refused again.
    REFUSED = "refused"


def verdict_of_status(status: int) -> Verdict:
    """2xx delivered; 408, 425, 429 and 5xx retried; any other refused."""
    if 200 <= status < 300:
        return Verdict.DELIVERED
    if status in _TRY_LATER or status >= 500:
        return Verdict.RETRY
    return Verdict.REFUSED


@dataclass(frozen=True)
class Answer:
    """A destination's answer to one send; `code` is the HTTP status, if it answered in HTTP,
    and `retry_after_s` how long it asked to be left alone (HTTP's Retry-After), if it did."""

    verdict: Verdict
    reason: str = ""
    code: int | None = None
    retry_after_s: float | None = None


def retry_after_s(header: str | None) -> float | None:
    """A Retry-After header given in seconds; None when absent or not a number of seconds (an
    HTTP date is left to the backoff)."""
    if header is None:
        return None
    try:
        seconds = float(header)
    except ValueError:
        return None
    return seconds if 0 <= seconds < float("inf") else None


DELIVERED: Final = Answer(Verdict.DELIVERED)


@dataclass(frozen=True)
class RetryPolicy:
    """Up to `max_attempts` sends of a batch, waiting `first_wait_s`, then twice as long each
    time, up to `max_wait_s`, between them."""

    max_attempts: int
    max_wait_s: float
    first_wait_s: float = 0.5

    def wait_before(self, attempt: int, asked_s: float | None = None) -> float | None:
        """Seconds to wait before send number `attempt` (2 for the first retry), at least
        `asked_s` (the destination's Retry-After) but never over `max_wait_s`; None once the
        budget is spent."""
        if attempt > self.max_attempts:
            return None
        backoff_s = self.first_wait_s * 2.0 ** (attempt - 2)
        return min(max(backoff_s, asked_s or 0.0), self.max_wait_s)
