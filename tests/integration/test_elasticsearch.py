"""BulkIndexer and the index templates against the real Elasticsearch, on an alias of their own."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import orjson
import pytest
from elasticsearch import AsyncElasticsearch

from devstack.indices import delete_alias_and_indices
from libs.config import ElasticsearchSettings
from libs.pipes import Record
from services.sinks.bulks import bulk_item
from services.sinks.config import SinkConfig
from services.sinks.documents import Document
from services.sinks.elastic import BulkIndexer, SinkSetupError, install_template
from services.sinks.mappings import template_name


@pytest.fixture
async def alias(client: AsyncElasticsearch) -> AsyncIterator[str]:
    name = f"test-{uuid.uuid4().hex[:12]}"
    await install_template(client, "good", SinkConfig(index=name, group_id="g", health_port=1))
    try:
        yield name
    finally:
        await delete_alias_and_indices(client, name)


def documents(count: int, day: str = "2026.11.23") -> list[Document]:
    return [
        Document(
            f"event-{i}",
            day,
            orjson.dumps({"event_name": "page_view" if i % 2 else "link_click", "txn_id": i}),
            Record("t", 0, i, b""),
        )
        for i in range(count)
    ]


async def index(client: AsyncElasticsearch, alias: str, docs: list[Document]) -> list[str]:
    indexer = BulkIndexer(client, alias, max_backoff_s=1, settings=ElasticsearchSettings())
    rejections = await indexer.index([bulk_item(alias, document) for document in docs])
    await client.indices.refresh(index=alias)
    return [rejection.reason for rejection in rejections]


async def test_a_restarted_sink_changes_the_settings_of_the_indices_behind_its_alias(
    client: AsyncElasticsearch, alias: str
) -> None:
    assert await index(client, alias, documents(1)) == []
    changed = SinkConfig(
        index=alias, group_id="g", health_port=1, refresh_interval="7s", total_fields_limit=900
    )
    await install_template(client, "good", changed)
    settings = await client.indices.get_settings(index=f"{alias}-2026.11.23")
    index_settings = settings[f"{alias}-2026.11.23"]["settings"]["index"]
    assert index_settings["refresh_interval"] == "7s"
    assert index_settings["mapping"]["total_fields"]["limit"] == "900"


async def test_documents_land_in_daily_indices_behind_the_alias(
    client: AsyncElasticsearch, alias: str
) -> None:
    assert await index(client, alias, documents(4) + documents(2, day="2026.11.24")) == []
    indices = await client.indices.get_alias(name=alias)
    assert sorted(indices) == [f"{alias}-2026.11.23", f"{alias}-2026.11.24"]
    found = await client.search(index=alias, query={"term": {"event_name": "page_view"}}, size=0)
    # Two documents with the same ids in two days are two documents: the day is part of the
    # identity, which is why it comes from the record itself.
    assert found["hits"]["total"]["value"] == 3
    mapping = await client.indices.get_mapping(index=f"{alias}-2026.11.23")
    properties = mapping[f"{alias}-2026.11.23"]["mappings"]["properties"]
    assert properties["txn_id"]["type"] == "integer"


async def test_indexing_the_same_documents_again_adds_nothing(
    client: AsyncElasticsearch, alias: str
) -> None:
    await index(client, alias, documents(10))
    await index(client, alias, documents(10))
    assert (await client.count(index=alias))["count"] == 10


async def test_a_mapping_conflict_is_reported_not_retried(
    client: AsyncElasticsearch, alias: str
) -> None:
    conflicting = Document(
        "b", "2026.11.23", orjson.dumps({"txn_id": {"nested": "object"}}), Record("t", 0, 1, b"")
    )
    reasons = await index(client, alias, [conflicting, *documents(1)])
    assert len(reasons) == 1
    assert reasons[0].startswith("document_parsing_exception: ")
    assert "failed to parse field [txn_id] of type [integer]" in reasons[0]
    assert (await client.count(index=alias))["count"] == 1


async def test_a_plain_index_in_the_place_of_the_alias_stops_the_sink(
    client: AsyncElasticsearch, alias: str
) -> None:
    await client.indices.delete_index_template(name=template_name(alias))
    await client.indices.create(index=alias)
    with pytest.raises(SinkSetupError, match=f"an index named '{alias}'"):
        await install_template(client, "bad", SinkConfig(index=alias, group_id="g", health_port=1))
