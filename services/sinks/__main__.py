"""`furrow sink good|bad|logs`: consume a topic, bulk-index it, commit once Elasticsearch has it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import orjson
from elasticsearch import AsyncElasticsearch
from prometheus_client import Counter

from libs.config import load_config
from libs.consumer import serve_consumer
from libs.formats import badrows
from libs.kafka import KafkaSink, KafkaSource
from libs.log import configure_logging
from libs.pipes import Message, Record
from services.sinks.config import SinkConfig, SinkKind, sink_defaults, source_topic
from services.sinks.documents import Document, UnreadableRecord, to_document
from services.sinks.elastic import BulkIndexer

INDEXED = Counter("furrow_sink_documents_indexed_total", "Documents indexed", ["index"])
BAD_ROWS = Counter("furrow_sink_bad_rows_total", "Records sent to the bad topic", ["index"])


async def serve(kind: SinkKind, config: SinkConfig) -> None:
    component = f"sink-{kind}"
    source = KafkaSource(config.kafka, [source_topic(kind, config.topics)], config.group_id)
    bad_sink = KafkaSink(config.kafka)
    client = AsyncElasticsearch(config.elasticsearch.url)
    indexer = BulkIndexer(client, config.index)

    async def handle(batch: list[Record]) -> None:
        documents: list[Document] = []
        bad_rows: list[bytes] = []
        for record in batch:
            try:
                documents.append(to_document(kind, record))
            except UnreadableRecord as unreadable:
                text = record.value.decode("utf-8", errors="replace")
                bad_rows.append(badrows.loader_parsing_error(component, unreadable.failure, text))
        rejections = await indexer.index(documents)
        now = datetime.now(UTC)
        for rejection in rejections:
            payload = orjson.dumps(rejection.document.source).decode()
            bad_rows.append(badrows.generic_error(component, [rejection.reason], payload, now=now))
        if bad_rows:
            await bad_sink.write([Message(config.topics.bad, row) for row in bad_rows])
        INDEXED.labels(config.index).inc(len(documents) - len(rejections))
        BAD_ROWS.labels(config.index).inc(len(bad_rows))

    try:
        await serve_consumer(
            source, bad_sink, handle, health_host=config.health_host, health_port=config.health_port
        )
    finally:
        await client.close()


def run(config_path: Path | None, kind: SinkKind) -> None:
    config = load_config(SinkConfig, f"sink_{kind}", path=config_path, defaults=sink_defaults(kind))
    configure_logging(f"sink-{kind}", config.logging)
    asyncio.run(serve(kind, config))
