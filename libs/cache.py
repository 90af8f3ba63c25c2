"""The one in-memory cache: least recently used entries out first, each kept for a time-to-live.

cachetools' `TTLCache` does the bookkeeping; this adds what its callers need beside it: a size
of 0 that turns the cache off, and a count of clears that refuses values read before the last one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import TypeVar, overload

from cachetools import TTLCache

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")
Other = TypeVar("Other")


class TtlCache(TTLCache[Key, Value]):
    """At most `size` entries, each forgotten `ttl_s` after it was stored (by `clock`); the least
    recently used goes first when full. A size of 0 keeps nothing."""

    def __init__(
        self, size: int, ttl_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(size, ttl_s, clock)
        # Counts the clears: a value read before a clear may be older than it, and is not kept.
        self.generation = 0

    @overload
    def get(self, key: Key) -> Value | None: ...

    @overload
    def get(self, key: Key, default: Value | Other) -> Value | Other: ...

    def get(self, key: Key, default: object = None) -> object:
        # What the library's get answers, in a third of its Python calls (it holds its timer
        # around a membership test and then an index): the resolver asks here for every entity
        # of every event.
        try:
            return self[key]
        except KeyError:
            return default

    def put(self, key: Key, value: Value, generation: int | None = None) -> None:
        """Keep `value`, unless it was read in a `generation` the cache has since cleared."""
        if self.maxsize < 1 or generation not in (None, self.generation):
            return
        self[key] = value

    def clear(self) -> None:
        super().clear()
        self.generation += 1
