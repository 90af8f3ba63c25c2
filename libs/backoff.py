"""Waiting between retries of something that will work again later (a server coming back)."""

from __future__ import annotations

import asyncio

FIRST_WAIT_S = 0.5


class Backoff:
    """Waits twice as long each time, from FIRST_WAIT_S up to `max_s`."""

    def __init__(self, max_s: float) -> None:
        self._max_s = max_s
        self._next_s = min(FIRST_WAIT_S, max_s)

    async def wait(self) -> None:
        await asyncio.sleep(self._next_s)
        self._next_s = min(self._next_s * 2, self._max_s)
