"""Servers a benchmark part starts for itself, stopped when the part is done."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from bench.pipeline_sampler import cpu_seconds
from devstack import kafka
from devstack.launcher import ChildProcess
from devstack.process import run_dir
from devstack.topics import admin_client, committed_offsets, create_topics, delete_topics
from libs.config import KafkaSettings
from libs.kafka import KafkaSink
from libs.pipes import Message

BIN = Path(sys.executable).parent


@contextmanager
def serving(
    command: Sequence[str], health_url: str, environment: Mapping[str, str] | None = None
) -> Iterator[int]:
    """Run `command` until the block ends, once `health_url` answers 200; yields its pid. Its
    output goes to `.run/bench-<command>.log`."""
    name = " ".join([Path(command[0]).name, *command[1:2]])
    log = run_dir() / ("bench-" + re.sub(r"[^\w.]+", "-", name) + ".log")
    with ChildProcess(
        name,
        list(command),
        {**os.environ, **(environment or {})},
        health_url,
        log,
        stop_grace_s=30,
    ) as child:
        yield child.pid


@contextmanager
def scratch_topics(*roles: str, partitions: int = 2) -> Iterator[dict[str, str]]:
    """Topics of the benchmark's own (role -> name), so its load never reaches the pipeline's
    topics and the services consuming them; deleted afterwards."""
    names = {role: f"bench-{role}-{uuid.uuid4().hex[:8]}" for role in roles}
    asyncio.run(create_topics(kafka.address(), names.values(), partitions=partitions))
    try:
        yield names
    finally:
        asyncio.run(delete_topics(kafka.address(), names.values()))


async def write_records(topic: str, records: list[bytes]) -> None:
    """`records` into `topic`, a hundred at a time (so both partitions get some)."""
    sink = KafkaSink(KafkaSettings(bootstrap_servers=kafka.address()))
    await sink.start()
    try:
        for start in range(0, len(records), 100):
            await sink.write([Message(topic, record) for record in records[start : start + 100]])
    finally:
        await sink.stop()


async def follow_commits(
    group: str, records: int, pid: int, *, timeout_s: float
) -> tuple[float, float]:
    """Records per second committed by `group` (process `pid`), from its first commit to the one
    that reaches `records` (joining the group is not the work measured), and the process's CPU
    seconds per record over that time. RuntimeError past `timeout_s`."""
    async with admin_client(kafka.address()) as admin:
        first: tuple[float, int, float] | None = None
        deadline = time.perf_counter() + timeout_s
        while True:
            committed = sum((await committed_offsets(admin, group)).values())
            now, used_s = time.perf_counter(), cpu_seconds(pid)
            if first is None and committed > 0:
                first = (now, committed, used_s)
            if committed >= records:
                break
            if now > deadline:
                raise RuntimeError(
                    f"{group} committed {committed:,} of {records:,} records in {timeout_s} s"
                )
            await asyncio.sleep(0.1)
    assert first is not None
    started, committed_then, used_then_s = first
    done = records - committed_then
    return done / (now - started), (used_s - used_then_s) / done
