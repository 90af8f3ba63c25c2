"""The whole-pipeline benchmark's tracker traffic: requests of the mix sent at a target rate of
events over many keep-alive connections, marker events sent every 100 ms, and a poller that
notes when each marker became searchable in Elasticsearch.

The rate is open-loop: requests are scheduled at the target rate whatever the answers' speed, and
queue for a free connection; if the collector cannot keep up, the queue fills, scheduling waits
for it and the rate achieved (measured from the answers) falls below the target. Sending stops
on time either way.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

import aiohttp
import orjson

from bench.pipeline_mix import TrackerMix, TrackerRequest

MARKER_INTERVAL_S = 0.1
MARKER_CONNECTIONS = 8
POLL_INTERVAL_S = 0.05


@dataclass
class Answers:
    """What the collector answered, in total and per second since the load began."""

    requests: int = 0
    accepted_requests: int = 0
    accepted_events: int = 0
    accepted_invalid: int = 0
    refused_events: int = 0  # in requests answered other than 200, or not answered at all
    statuses: Counter[str] = field(default_factory=Counter)
    # Second since the load began -> [requests, events] answered 200 in it.
    per_second: dict[int, list[int]] = field(default_factory=dict)

    def note(self, request: TrackerRequest, status: str, at_s: float) -> None:
        self.requests += 1
        self.statuses[status] += 1
        if status != "200":
            self.refused_events += request.events
            return
        self.accepted_requests += 1
        self.accepted_events += request.events
        self.accepted_invalid += request.invalid_events
        counts = self.per_second.setdefault(int(at_s), [0, 0])
        counts[0] += 1
        counts[1] += request.events


@dataclass
class Markers:
    """Marker events by id: when each was sent, and when it was first found searchable."""

    sent_at: dict[str, float] = field(default_factory=dict)
    found_at: dict[str, float] = field(default_factory=dict)

    @property
    def pending(self) -> list[str]:
        return [marker for marker in self.sent_at if marker not in self.found_at]

    def latencies(self) -> list[tuple[float, float]]:
        """(searchable at, seconds from send to searchable) for every marker found."""
        return [(found, found - self.sent_at[marker]) for marker, found in self.found_at.items()]


@dataclass
class TrackerLoad:
    collector_url: str
    good_search_url: str  # the good alias's `_search`
    mix: TrackerMix
    events_per_s: float
    connections: int
    answers: Answers = field(default_factory=Answers)
    markers: Markers = field(default_factory=Markers)
    # (seconds from the start, request): made by prepare(), sent by send().
    planned: list[tuple[float, TrackerRequest]] = field(default_factory=list)

    def prepare(self, seconds: float) -> None:
        """Make the requests of `seconds` of load in advance, their events stamped with the time
        they are planned for counted from now: made while sending, they took a third of the load
        generator's CPU from the machine being measured."""
        planned, due, now_ms = [], 0.0, _now_ms()
        while due < seconds:
            request = self.mix.request(now_ms + int(due * 1000))
            planned.append((due, request))
            due += request.events / self.events_per_s
        self.planned = planned

    async def send(self, started_at: float, seconds: float) -> None:
        """Send the prepared requests and the markers from `started_at` (the event loop's clock)
        for `seconds`, and return once every request has been answered."""
        queue: asyncio.Queue[TrackerRequest | None] = asyncio.Queue(self.connections * 2)
        # The workers use at most `connections`; markers, sent on time even while an earlier
        # one waits for its answer, take the rest.
        connector = aiohttp.TCPConnector(limit=self.connections + MARKER_CONNECTIONS)
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(
            self.collector_url, connector=connector, timeout=timeout
        ) as session:
            workers = [
                asyncio.create_task(self._work(session, queue, started_at))
                for _ in range(self.connections)
            ]
            markers = asyncio.create_task(self._send_markers(session, started_at, seconds))
            await self._schedule(queue, started_at, seconds)
            for _ in workers:
                await queue.put(None)
            await asyncio.gather(*workers, markers)

    async def _schedule(
        self, queue: asyncio.Queue[TrackerRequest | None], started_at: float, seconds: float
    ) -> None:
        loop = asyncio.get_running_loop()
        ends_at = started_at + seconds
        # A collector that falls behind fills the queue and holds scheduling back; the load
        # still ends on time, having sent less than offered.
        for due, request in self.planned:
            if loop.time() >= ends_at:
                break
            if (wait := started_at + due - loop.time()) > 0:
                await asyncio.sleep(wait)
            await queue.put(request)

    async def _work(
        self,
        session: aiohttp.ClientSession,
        queue: asyncio.Queue[TrackerRequest | None],
        started_at: float,
    ) -> None:
        loop = asyncio.get_running_loop()
        while (request := await queue.get()) is not None:
            status = await _exchange(session, request)
            self.answers.note(request, status, loop.time() - started_at)

    async def _send_markers(
        self, session: aiohttp.ClientSession, started_at: float, seconds: float
    ) -> None:
        """One marker every 100 ms, each on its own: a slow answer never delays the next."""
        loop = asyncio.get_running_loop()
        exchanges = []
        for number in range(round(seconds / MARKER_INTERVAL_S)):
            await asyncio.sleep(max(0.0, started_at + number * MARKER_INTERVAL_S - loop.time()))
            exchanges.append(asyncio.create_task(self._send_marker(session, started_at)))
        await asyncio.gather(*exchanges)

    async def _send_marker(self, session: aiohttp.ClientSession, started_at: float) -> None:
        loop = asyncio.get_running_loop()
        marker = self.mix.marker(_now_ms())
        assert marker.marker_id is not None
        sent_at = loop.time()
        status = await _exchange(session, marker)
        self.answers.note(marker, status, loop.time() - started_at)
        if status == "200":
            self.markers.sent_at[marker.marker_id] = sent_at - started_at

    async def poll(self, started_at: float, stop: asyncio.Event) -> None:
        """Search the good alias for pending markers every 50 ms until `stop`. A marker's time
        is when the search that found it was sent: at most 50 ms late, never early."""
        loop = asyncio.get_running_loop()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            while not stop.is_set():
                pending = self.markers.pending
                searched_at = loop.time() - started_at
                if pending:
                    query = {"query": {"ids": {"values": pending}}, "size": len(pending)}
                    async with session.post(
                        self.good_search_url,
                        params={"filter_path": "hits.hits._id", "ignore_unavailable": "true"},
                        data=orjson.dumps({**query, "_source": False}),
                        headers={"Content-Type": "application/json"},
                    ) as answer:
                        found = (await answer.json()).get("hits", {}).get("hits", [])
                    for hit in found:
                        self.markers.found_at.setdefault(hit["_id"], searched_at)
                await asyncio.sleep(POLL_INTERVAL_S)


async def _exchange(session: aiohttp.ClientSession, request: TrackerRequest) -> str:
    """The answer's status code, or the name of the error that stopped the request."""
    try:
        async with session.request(
            request.method,
            request.target,
            data=request.body,
            headers={"Content-Type": "application/json"} if request.body is not None else None,
        ) as answer:
            await answer.read()
            return str(answer.status)
    except (aiohttp.ClientError, TimeoutError) as error:
        return type(error).__name__


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
