"""BulkIndexer against the real Elasticsearch, on an index of its own."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from elasticsearch import AsyncElasticsearch

from services.sinks.documents import Document
from services.sinks.elastic import BulkIndexer


@pytest.fixture
async def client(elasticsearch_url: str) -> AsyncIterator[AsyncElasticsearch]:
    es = AsyncElasticsearch(elasticsearch_url)
    try:
        yield es
    finally:
        await es.close()


@pytest.fixture
async def index(client: AsyncElasticsearch) -> AsyncIterator[str]:
    name = f"test-{uuid.uuid4().hex[:12]}"
    try:
        yield name
    finally:
        await client.indices.delete(index=name, ignore_unavailable=True)


def documents(count: int) -> list[Document]:
    return [
        Document(f"event-{i}", {"event_name": "page_view" if i % 2 else "link_click", "n": i})
        for i in range(count)
    ]


async def test_indexed_documents_are_searchable(client: AsyncElasticsearch, index: str) -> None:
    assert await BulkIndexer(client, index).index(documents(10)) == []
    await client.indices.refresh(index=index)
    found = await client.search(
        index=index, query={"term": {"event_name.keyword": "page_view"}}, size=0
    )
    assert found["hits"]["total"]["value"] == 5
    document = await client.get(index=index, id="event-3")
    assert document["_source"] == {"event_name": "page_view", "n": 3}


async def test_indexing_the_same_documents_again_adds_nothing(
    client: AsyncElasticsearch, index: str
) -> None:
    indexer = BulkIndexer(client, index)
    await indexer.index(documents(10))
    await indexer.index(documents(10))
    await client.indices.refresh(index=index)
    assert (await client.count(index=index))["count"] == 10


async def test_a_mapping_conflict_is_reported_not_retried(
    client: AsyncElasticsearch, index: str
) -> None:
    indexer = BulkIndexer(client, index)
    await indexer.index([Document("a", {"n": 1})])
    conflicting = Document("b", {"n": {"nested": "object"}})
    rejections = await indexer.index([conflicting, Document("c", {"n": 2})])
    assert [rejection.document for rejection in rejections] == [conflicting]
    assert rejections[0].reason.startswith("document_parsing_exception: ")
    assert "failed to parse field [n] of type [long]" in rejections[0].reason
    assert rejections[0].reason.endswith("(Cannot parse object as number)")
    await client.indices.refresh(index=index)
    assert (await client.count(index=index))["count"] == 2
