"""Elasticsearch index administration for the harness (tests, bench and drills): what a sink
made for an alias removed, and documents counted once searchable.

The sinks install their own templates and policies (`services/sinks/elastic.py`); this module only
clears and reads what the harness's pipelines wrote.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from elasticsearch import AsyncElasticsearch

from libs.config import ElasticsearchSettings
from libs.elastic import elasticsearch_client
from services.sinks.mappings import template_name
from services.sinks.retention import policy_name


@contextlib.asynccontextmanager
async def connected(url: str) -> AsyncIterator[AsyncElasticsearch]:
    """A client of the cluster at `url`, closed after the block."""
    client = elasticsearch_client(ElasticsearchSettings(url=url))
    try:
        yield client
    finally:
        await client.close()


async def delete_alias_and_indices(client: AsyncElasticsearch, alias: str) -> None:
    """Remove what a sink made for `alias`: its daily indices (or a plain index of that name),
    its template and its retention policy. Names are listed first: the cluster refuses wildcard
    deletes."""
    found = await client.indices.get(
        index=f"{alias},{alias}-2*", ignore_unavailable=True, allow_no_indices=True
    )
    if found:
        await client.indices.delete(index=",".join(found))
    await client.options(ignore_status=404).indices.delete_index_template(name=template_name(alias))
    # 400: a cluster without ILM, where no policy was made.
    await client.options(ignore_status=(400, 404)).ilm.delete_lifecycle(name=policy_name(alias))


async def refreshed(client: AsyncElasticsearch, index: str) -> bool:
    """Refresh `index` (an index or an alias), so that everything indexed so far is searchable;
    False when it does not exist (yet: before a sink's first bulk)."""
    if not await client.indices.exists(index=index):
        return False
    await client.indices.refresh(index=index)
    return True


async def searchable_count(
    client: AsyncElasticsearch, index: str, *, query: dict[str, Any] | None = None
) -> int:
    """The number of documents matching `query` (all by default) in `index` after a refresh;
    0 when `index` does not exist."""
    if not await refreshed(client, index):
        return 0
    found = await client.count(index=index, query=query or {"match_all": {}})
    return int(found["count"])


async def wait_for_count(
    client: AsyncElasticsearch,
    index: str,
    expected: int,
    *,
    query: dict[str, Any] | None = None,
    timeout_s: float = 60.0,
) -> int:
    """The number of documents matching `query` in `index`, polled until it reaches `expected`
    (or the timeout: the last count is returned for the assertion to show)."""
    count = 0
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                count = await searchable_count(client, index, query=query)
                if count >= expected:
                    return count
                await asyncio.sleep(0.25)
    except TimeoutError:
        return count
