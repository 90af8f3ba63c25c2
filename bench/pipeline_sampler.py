"""Once a second during the whole-pipeline benchmark: each process's CPU ticks and RSS, each
consumer group's lag, the services' counters and the documents searchable in Elasticsearch."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from bench.latency import consumer_lag
from bench.pipeline_probes import (
    cpu_ticks,
    is_jit_compiler,
    listening_inodes,
    machine_ticks,
    metric_total,
    resident_bytes,
)
from devstack.topics import admin_client, end_offsets, offsets_consumer

TICKS_PER_S = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Sample:
    at_s: float  # since the load began
    cpu_seconds: dict[str, float]  # process name -> user+system CPU time so far
    rss_bytes: dict[str, int]
    lag: dict[str, int]  # consumer group role -> records not yet committed
    counters: dict[str, float]  # e.g. "enricher events" -> total so far
    searchable: dict[str, int]  # alias role ("good", "bad") -> documents searchable
    machine_ticks: tuple[int, int]  # (busy, total) over all cores


@dataclass(frozen=True)
class ConsumerGroup:
    role: str  # "enricher", "good sink", ...
    group_id: str
    topic: str
    partitions: int


@dataclass(frozen=True)
class ServiceCounter:
    """A counter on a service's /metrics page: `name` summed over its labels."""

    label: str
    metrics_url: str
    names: tuple[str, ...]


@dataclass
class Sampler:
    processes: Mapping[str, int]  # name -> pid
    groups: list[ConsumerGroup]
    counters: list[ServiceCounter]
    aliases: Mapping[str, str]  # role -> alias
    bootstrap_servers: str
    elasticsearch_url: str
    samples: list[Sample] = field(default_factory=list)
    # Group id -> the broker coordinating it: asked once, not at every sample.
    _coordinators: dict[str, int] = field(default_factory=dict)

    async def run(self, started_at: float, stop: asyncio.Event) -> None:
        """Sample every second (of the event loop's clock, from `started_at`) until `stop`."""
        loop = asyncio.get_running_loop()
        async with (
            admin_client(self.bootstrap_servers) as admin,
            offsets_consumer(self.bootstrap_servers) as offsets,
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http,
        ):
            while not stop.is_set():
                at_s = loop.time() - started_at
                self.samples.append(await self._sample(at_s, admin, offsets, http))
                next_at = started_at + len(self.samples)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), max(0.0, next_at - loop.time()))

    async def _sample(
        self,
        at_s: float,
        admin: AIOKafkaAdminClient,
        offsets: AIOKafkaConsumer,
        http: aiohttp.ClientSession,
    ) -> Sample:
        """One sample; its readings are taken at once, so that a slow answer (a service busy
        with the load) neither skews the others nor delays the next sample much."""
        cpu_seconds, rss, machine = _processes_now(self.processes)
        lags, pages, counts = await asyncio.gather(
            asyncio.gather(*(self._lag(admin, offsets, group) for group in self.groups)),
            asyncio.gather(*(_text(http, counter.metrics_url) for counter in self.counters)),
            asyncio.gather(*(self._count(http, alias) for alias in self.aliases.values())),
        )
        return Sample(
            at_s,
            cpu_seconds,
            rss,
            lag={group.role: lag for group, lag in zip(self.groups, lags, strict=True)},
            counters={
                counter.label: sum(metric_total(page, name) for name in counter.names)
                for counter, page in zip(self.counters, pages, strict=True)
            },
            searchable=dict(zip(self.aliases, counts, strict=True)),
            machine_ticks=machine,
        )

    async def _count(self, http: aiohttp.ClientSession, alias: str) -> int:
        url = f"{self.elasticsearch_url}/{alias}/_count"
        async with http.get(url, params={"ignore_unavailable": "true"}) as answer:
            # Before the sink's first bulk the alias does not exist yet.
            count: int = (await answer.json()).get("count", 0)
            return count

    async def _lag(
        self, admin: AIOKafkaAdminClient, offsets: AIOKafkaConsumer, group: ConsumerGroup
    ) -> int:
        if group.group_id not in self._coordinators:
            self._coordinators[group.group_id] = await admin.find_coordinator(group.group_id)
        partitions = [TopicPartition(group.topic, p) for p in range(group.partitions)]
        ends = await end_offsets(offsets, group.topic, range(group.partitions))
        committed = await admin.list_consumer_group_offsets(
            group.group_id, self._coordinators[group.group_id], partitions=partitions
        )
        return consumer_lag(
            ends,
            {tp.partition: (m.offset if m.offset >= 0 else None) for tp, m in committed.items()},
        )


async def _text(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(url) as answer:
        return await answer.text()


def _processes_now(
    processes: Mapping[str, int],
) -> tuple[dict[str, float], dict[str, int], tuple[int, int]]:
    """CPU seconds and RSS by process name, and the machine's (busy, total) ticks. Files of
    /proc are read in memory by the kernel, so reading them never blocks the event loop."""
    seconds, rss = {}, {}
    for name, pid in processes.items():
        try:
            seconds[name] = cpu_seconds(pid)
            rss[name] = resident_bytes(Path(f"/proc/{pid}/status").read_text())
        except (FileNotFoundError, ValueError):
            continue  # exited: the service's absence shows in the report
    return seconds, rss, machine_ticks(Path("/proc/stat").read_text())


def cpu_seconds(pid: int) -> float:
    """The CPU time, user plus system, process `pid` has used so far."""
    return cpu_ticks(Path(f"/proc/{pid}/stat").read_text()) / TICKS_PER_S


def jit_cpu_seconds(pid: int) -> float:
    """The CPU time the JIT compiler threads of the JVM `pid` have used so far. (With this few
    cores HotSpot runs one C1 and one C2 thread for the JVM's whole life, so none has ended and
    taken its time with it.)"""
    ticks = 0
    for thread in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (thread / "stat").read_text()
        except FileNotFoundError:
            continue  # the thread ended since the listing
        if is_jit_compiler(stat):
            ticks += cpu_ticks(stat)
    return ticks / TICKS_PER_S


def listening_pid(port: int) -> int | None:
    """The process listening on `port` on this machine (a server we did not start, such as
    Kafka or Elasticsearch, whose pid files belong to another clone), None if none is found."""
    inodes: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        inodes |= listening_inodes(Path(table).read_text(), port)
    sockets = {f"socket:[{inode}]" for inode in inodes}
    for process in Path("/proc").iterdir():
        if not process.name.isdigit():
            continue
        try:
            if any(os.readlink(fd) in sockets for fd in (process / "fd").iterdir()):
                return int(process.name)
        except (FileNotFoundError, PermissionError, ProcessLookupError):
            continue
    return None
