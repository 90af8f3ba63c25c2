"""Retention of the sinks' daily indices against the real Elasticsearch: the indices of days past
the period are deleted, by ILM where it runs, else by the sink's own sweep (the devstack's
Elasticsearch, the integration-test distribution, has no ILM)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from elasticsearch import AsyncElasticsearch

from devstack.indices import delete_alias_and_indices
from services.sinks.config import SinkConfig
from services.sinks.elastic import install_template
from services.sinks.retention import delete_expired, ilm_running
from tests.integration.processes import Names, health_port, start_service
from tests.integration.test_sinks import sink_environment

TODAY = datetime.now(UTC).date()


def day(days_ago: int) -> str:
    return (TODAY - timedelta(days=days_ago)).strftime("%Y.%m.%d")


@pytest.fixture
async def alias(client: AsyncElasticsearch) -> AsyncIterator[str]:
    name = f"test-{uuid.uuid4().hex[:12]}"
    try:
        yield name
    finally:
        await delete_alias_and_indices(client, name)


@pytest.fixture
async def fast_ilm(client: AsyncElasticsearch) -> AsyncIterator[None]:
    """Where ILM runs, it looks at indices every second instead of every ten minutes."""
    ilm = await ilm_running(client)
    if ilm:
        await client.cluster.put_settings(persistent={"indices.lifecycle.poll_interval": "1s"})
    try:
        yield
    finally:
        if ilm:
            await client.cluster.put_settings(persistent={"indices.lifecycle.poll_interval": None})


async def existing(client: AsyncElasticsearch, alias: str) -> list[str]:
    found = await client.indices.get(index=f"{alias}-2*", allow_no_indices=True)
    return sorted(found.body)


async def test_the_bad_sink_deletes_the_daily_indices_of_days_past_its_retention(
    names: Names,
    kafka_bootstrap: str,
    elasticsearch_url: str,
    client: AsyncElasticsearch,
    tmp_path: Path,
    fast_ilm: None,
) -> None:
    alias = names.alias("bad")
    # Indices an earlier run left, behind the alias as a sink makes them.
    await install_template(client, "bad", SinkConfig(index=alias, group_id="g", health_port=1))
    kept = sorted(f"{alias}-{day(n)}" for n in (0, 2))
    for index in [*kept, f"{alias}-{day(3)}", f"{alias}-{day(40)}"]:
        await client.indices.create(index=index)
    port = health_port()
    environment = sink_environment(names, "bad", kafka_bootstrap, elasticsearch_url, 0, port)
    environment["FURROW_SINK_BAD_RETENTION_DAYS"] = "3"
    sink = start_service(["sink", "bad"], environment, health_port=port, log=tmp_path / "sink.log")
    left: list[str] = []
    for _ in range(90):
        if (left := await existing(client, alias)) == kept:
            break
        await asyncio.sleep(1)
    assert sink.stop() == 0, sink.output()
    assert left == kept
    aliases = await client.indices.get_alias(name=alias)
    assert sorted(aliases.body) == kept


async def test_the_sinks_own_sweep_deletes_only_expired_daily_indices(
    client: AsyncElasticsearch, alias: str
) -> None:
    await install_template(client, "logs", SinkConfig(index=alias, group_id="g", health_port=1))
    names = [f"{alias}-{day(n)}" for n in (0, 2, 3, 40)]
    other = f"{alias}-2-{day(50)}"
    for index in [*names, other]:
        await client.indices.create(index=index)
    assert await delete_expired(client, alias, TODAY, 3) == sorted(names[2:])
    assert await existing(client, alias) == sorted([*names[:2], other])
