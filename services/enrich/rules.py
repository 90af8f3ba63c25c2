"""Validity rules and deduplication: the last checks before an event is good."""

from __future__ import annotations

from collections import OrderedDict
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
    them (the oldest forgotten first), which bounds memory at roughly 150 bytes per pair."""

    window_s: float
    max_events: int
    _seen: OrderedDict[tuple[str, str], float] = field(default_factory=OrderedDict)

    def is_duplicate(self, event_id: str, fingerprint: str, now_s: float) -> bool:
        """True if this pair was seen within the window; records it otherwise."""
        while self._seen:
            oldest_key, seen_at = next(iter(self._seen.items()))
            if now_s - seen_at < self.window_s and len(self._seen) < self.max_events:
                break
            del self._seen[oldest_key]
        key = (event_id, fingerprint)
        if key in self._seen:
            return True
        self._seen[key] = now_s
        return False

    def __len__(self) -> int:
        return len(self._seen)
