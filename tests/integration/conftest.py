from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from elasticsearch import AsyncElasticsearch

from devstack.indices import connected, delete_alias_and_indices
from devstack.topics import created_topics
from tests.integration.processes import Names

# The registry's server fixtures live in their own module; importing them here makes them
# visible to every integration test.
from tests.integration.registry_servers import database, patched_registry, registry, vendor

KINDS = ("good", "bad", "logs")

__all__ = ["database", "patched_registry", "registry", "vendor"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The hook sees every collected test, not only this directory's.
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.servers)


@pytest.fixture
async def client(elasticsearch_url: str) -> AsyncIterator[AsyncElasticsearch]:
    """A client of the shared Elasticsearch."""
    async with connected(elasticsearch_url) as es:
        yield es


@pytest.fixture
async def names(kafka_bootstrap: str, elasticsearch_url: str) -> AsyncIterator[Names]:
    """Fresh `good`, `bad` and `logs` topics and aliases for one test, removed afterwards."""
    unique = Names()
    try:
        async with created_topics(
            kafka_bootstrap, [unique.topic(kind) for kind in KINDS], partitions=2
        ):
            yield unique
    finally:
        async with connected(elasticsearch_url) as es:
            for kind in KINDS:
                await delete_alias_and_indices(es, unique.alias(kind))
