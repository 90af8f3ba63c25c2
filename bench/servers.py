"""Servers a benchmark part starts for itself, stopped when the part is done."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from devstack import kafka
from devstack.process import wait_until

BIN = Path(sys.executable).parent


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def serving(
    command: Sequence[str], health_url: str, environment: Mapping[str, str] | None = None
) -> Iterator[int]:
    """Run `command` until the block ends, once `health_url` answers 200; yields its pid."""
    process = subprocess.Popen(
        list(command),
        env={**os.environ, **(environment or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: _answers(health_url), what=" ".join(command), timeout=60)
        yield process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def scratch_topics(*roles: str, partitions: int = 2) -> Iterator[dict[str, str]]:
    """Topics of the benchmark's own (role -> name), so its load never reaches the pipeline's
    topics and the services consuming them; deleted afterwards."""
    names = {role: f"bench-{role}-{uuid.uuid4().hex[:8]}" for role in roles}
    asyncio.run(_create_topics(list(names.values()), partitions))
    try:
        yield names
    finally:
        asyncio.run(_delete_topics(list(names.values())))


async def _create_topics(names: list[str], partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.address())
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(name, num_partitions=partitions, replication_factor=1) for name in names]
        )
    finally:
        await admin.close()


async def _delete_topics(names: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.address())
    await admin.start()
    try:
        await admin.delete_topics(names)
    finally:
        await admin.close()
