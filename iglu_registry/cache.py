"""A bounded read cache with a time-to-live, emptied on every write."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

Value = TypeVar("Value")


class ReadCache(Generic[Value]):
    """At most `entries` values, each kept `ttl_s` seconds; the least recently used goes first."""

    def __init__(
        self, entries: int, ttl_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.entries = entries
        self.ttl_s = ttl_s
        self._clock = clock
        self._values: OrderedDict[Hashable, tuple[float, Value]] = OrderedDict()
        # Counts the clears: a value read before a clear is older than it and never stored.
        self.generation = 0

    def get(self, key: Hashable) -> Value | None:
        found = self._values.get(key)
        if found is None:
            return None
        expires_at, value = found
        if self._clock() >= expires_at:
            del self._values[key]
            return None
        self._values.move_to_end(key)
        return value

    def put(self, key: Hashable, value: Value, generation: int | None = None) -> None:
        """Keep `value`, unless it was read in a `generation` the cache has since cleared."""
        if self.entries <= 0 or generation not in (None, self.generation):
            return
        self._values[key] = (self._clock() + self.ttl_s, value)
        self._values.move_to_end(key)
        while len(self._values) > self.entries:
            self._values.popitem(last=False)

    def clear(self) -> None:
        self._values.clear()
        self.generation += 1

    def __len__(self) -> int:
        return len(self._values)
