"""The drills' sender: tracker requests posted without pause by a few concurrent workers, and
exactly which events the collector answered 200."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator

import httpx

from drills.accounting import Sent
from drills.traffic import TrackerRequest, requests


class Load:
    """Run with `run()` until `stop()`; `late` switches to the registry drill's mix."""

    def __init__(self, collector_url: str, *, workers: int = 6, pause_s: float = 0.01) -> None:
        self.collector_url = collector_url
        self.workers = workers
        self.pause_s = pause_s
        self.late = False
        self.sent: list[Sent] = []
        self._usual = requests()
        self._late = requests(late=True)
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    def statuses(self) -> Counter[int | None]:
        """How many events got each answer so far (None: no answer)."""
        return Counter(sent.status for sent in self.sent)

    async def run(self) -> None:
        async with httpx.AsyncClient(base_url=self.collector_url, timeout=30) as client:
            await asyncio.gather(*(self._work(client) for _ in range(self.workers)))

    async def _work(self, client: httpx.AsyncClient) -> None:
        while not self._stopping.is_set():
            request = next(self._mix())
            status = await self._send(client, request)
            self.sent.extend(Sent(e.event_id, e.belongs_in, status) for e in request.events)
            await asyncio.sleep(self.pause_s)

    def _mix(self) -> Iterator[TrackerRequest]:
        return self._late if self.late else self._usual

    @staticmethod
    async def _send(client: httpx.AsyncClient, request: TrackerRequest) -> int | None:
        try:
            response = await client.request(
                request.method,
                request.path,
                params=request.query(),
                content=request.body(),
                headers={"Content-Type": "application/json"} if request.method == "POST" else {},
            )
        except httpx.HTTPError:
            # The collector died (or was not there) before answering: nothing is owed.
            return None
        return response.status_code
