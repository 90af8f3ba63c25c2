"""The one batching policy: when a batch (a bulk, a write of log lines, a Kafka flush, an archive
file) goes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BatchPolicy:
    """A batch goes once it holds `max_bytes` bytes or `max_count` items (no limit on the count
    when None), or `max_age_s` after its first item came, whichever comes first."""

    max_bytes: int
    max_age_s: float
    max_count: int | None = None

    def is_full(self, size_bytes: int, count: int = 0) -> bool:
        """A batch of this size takes nothing more."""
        return size_bytes >= self.max_bytes or (
            self.max_count is not None and count >= self.max_count
        )

    def fits(self, size_bytes: int, count: int) -> bool:
        """A batch of this size is within the limits (it may be exactly full)."""
        return size_bytes <= self.max_bytes and (self.max_count is None or count <= self.max_count)

    def due_in(self, started: float, now: float) -> float:
        """Seconds until a batch begun at `started` must go (<= 0: now), on one clock."""
        return started + self.max_age_s - now

    def is_due(self, started: float, now: float) -> bool:
        return self.due_in(started, now) <= 0
