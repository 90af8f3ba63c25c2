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
    """A destination's answer to one send; `code` is the HTTP status, if it answered in HTTP."""

    verdict: Verdict
    reason: str = ""
    code: int | None = None


DELIVERED: Final = Answer(Verdict.DELIVERED)


@dataclass(frozen=True)
class RetryPolicy:
    """Up to `max_attempts` sends of a batch, waiting `first_wait_s`, then twice as long each
    time, up to `max_wait_s`, between them."""

    max_attempts: int
    max_wait_s: float
    first_wait_s: float = 0.5

    def wait_before(self, attempt: int) -> float | None:
        """Seconds to wait before send number `attempt` (2 for the first retry); None once the
        budget is spent."""
        if attempt > self.max_attempts:
            return None
        return min(self.first_wait_s * 2.0 ** (attempt - 2), self.max_wait_s)
