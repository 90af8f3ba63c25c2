"""Validity rules and deduplication: the last checks before an event is good."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from libs.formats.enriched import EnrichedEvent

_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


@dataclass(frozen=True)
class ValidityRules:
    """Bounds on the device's clock, against the collector's, and fields every event needs."""

    max_device_age_s: float | None = None
    max_device_future_s: float | None = None
    required_fields: Sequence[str] = ()

    def problems(self, event: EnrichedEvent) -> list[str]:
        """Why `event` breaks the rules; empty if it does not."""
        found = [f"{name} is required" for name in self.required_fields if not event.get(name)]
        if self.max_device_age_s is None and self.max_device_future_s is None:
            return found
        created, collected = event.get("dvce_created_tstamp"), event.get("collector_tstamp")
        if created and collected:
            skew_s = (_parse(collected) - _parse(created)).total_seconds()
            if self.max_device_age_s is not None and skew_s > self.max_device_age_s:
                found.append(
                    f"dvce_created_tstamp {created} is {skew_s:.0f} s before collector_tstamp "
                    f"{collected}, more than the {self.max_device_age_s:.0f} s allowed"
                )
            if self.max_device_future_s is not None and -skew_s > self.max_device_future_s:
                found.append(
                    f"dvce_created_tstamp {created} is {-skew_s:.0f} s after collector_tstamp "
                    f"{collected}, more than the {self.max_device_future_s:.0f} s allowed"
                )
        return found


def _parse(text: str) -> datetime:
    return datetime.strptime(text, _TIMESTAMP_FORMAT)


@dataclass
class Deduplicator:
    """Remembers (event id, fingerprint) pairs for `window_s` seconds, at most `max_events` of
    them, which bounds its memory (the size of a pair is in docs/performance.md).

    Pairs are kept in two generations: the current one, and the one before it. A new generation
    starts when the current one is `window_s` old (the one before it then holds only pairs older
    than the window, and goes) or holds half of `max_events` (the older half is then forgotten at
    once). Dropping a whole dictionary is much cheaper than forgetting pairs one by one, which
    took an eighth of the enricher's time."""

    window_s: float
    max_events: int
    _current: dict[str, float] = field(default_factory=dict)
    _previous: dict[str, float] = field(default_factory=dict)
    _current_since: float | None = None

    def is_duplicate(self, event_id: str, fingerprint: str, now_s: float) -> bool:
        """True if this pair was seen within the window; records it otherwise."""
        if self._current_since is None:
            self._current_since = now_s
        if (
            now_s - self._current_since >= self.window_s
            or len(self._current) >= self.max_events // 2
        ):
            self._previous, self._current, self._current_since = self._current, {}, now_s
        key = f"{event_id} {fingerprint}"
        seen_at = self._current.get(key)
        if seen_at is None:
            seen_at = self._previous.get(key)
        if seen_at is not None and now_s - seen_at < self.window_s:
            return True
        self._current[key] = now_s
        return False

    def __len__(self) -> int:
        return len(self._current) + len(self._previous)
