"""`furrow micro`'s memory: the latest good and bad events, in Micro's shapes, each kind capped
so that a long test run cannot grow the process without end (the oldest go first)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from services.micro.shapes import BadFilters, GoodFilters


@dataclass(frozen=True)
class Summary:
    good: int
    bad: int

    def as_json(self) -> dict[str, int]:
        return {"total": self.good + self.bad, "good": self.good, "bad": self.bad}


def keeps_good(event: dict[str, Any], filters: GoodFilters) -> bool:
    """Whether a GoodEvent passes `filters` (`limit` aside)."""
    if filters.event_type is not None and event.get("eventType") != filters.event_type:
        return False
    if filters.schema is not None and event.get("schema") != filters.schema:
        return False
    carried = event.get("contexts") or []
    return all(schema in carried for schema in filters.contexts)


def keeps_bad(event: dict[str, Any], filters: BadFilters) -> bool:
    """Whether a BadEvent passes `filters`: one without a request (not a CollectorPayload at
    all) passes any vendor and version, as in Micro."""
    collector = event.get("collectorPayload")
    if collector is None:
        return True
    api = collector.get("api", {})
    if filters.vendor is not None and api.get("vendor") != filters.vendor:
        return False
    return filters.version is None or api.get("version") == filters.version


def _newest(events: Iterable[dict[str, Any]], limit: int | None) -> list[dict[str, Any]]:
    selected = list(events)
    return selected if limit is None else selected[:limit]


class Clearable(Protocol):
    def clear(self) -> None: ...


class MemoryStore:
    """The last `max_events` good events and as many bad ones, newest first; a MicroStore (its
    readers are coroutines only to share the API with stores that do I/O). A reset also clears
    `kept_alongside` (the console's index of the same events)."""

    def __init__(self, max_events: int, kept_alongside: Iterable[Clearable] = ()) -> None:
        self._good: deque[dict[str, Any]] = deque(maxlen=max_events)
        self._bad: deque[dict[str, Any]] = deque(maxlen=max_events)
        self._kept_alongside = list(kept_alongside)

    def add_good(self, event: dict[str, Any]) -> None:
        self._good.appendleft(event)

    def add_bad(self, event: dict[str, Any]) -> None:
        self._bad.appendleft(event)

    async def summary(self) -> Summary:
        return self._count()

    def _count(self) -> Summary:
        return Summary(len(self._good), len(self._bad))

    async def good(self, filters: GoodFilters) -> list[dict[str, Any]]:
        return _newest((e for e in self._good if keeps_good(e, filters)), filters.limit)

    async def bad(self, filters: BadFilters) -> list[dict[str, Any]]:
        return _newest((e for e in self._bad if keeps_bad(e, filters)), filters.limit)

    async def reset(self) -> Summary:
        self._good.clear()
        self._bad.clear()
        for other in self._kept_alongside:
            other.clear()
        return self._count()
