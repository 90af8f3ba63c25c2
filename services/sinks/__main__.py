"""`furrow sink good|bad|logs`: consume a topic, bulk-index it, commit once Elasticsearch has it."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path

from elasticsearch import ApiError, AsyncElasticsearch, TransportError

from libs.batching import BatchPolicy
from libs.consumer import first_problem, serve_source
from libs.kafka import KafkaSink, KafkaSource
from libs.log import configure_logging
from libs.memory import freeze_long_lived_objects
from services.sinks.config import SinkConfig, SinkKind, load_sink_config, source_topic
from services.sinks.documents import component
from services.sinks.elastic import BulkIndexer, elastic_client, install_template
from services.sinks.loader import BadRowOutlet, IndexedBadRows, KafkaBadRows, Loader
from services.sinks.retention import SWEEP_EVERY_S, delete_expired

logger = logging.getLogger(__name__)


async def serve(kind: SinkKind, config: SinkConfig) -> None:
    client = elastic_client(config)
    try:
        sweeps = await install_template(client, kind, config)
        indexer = BulkIndexer(
            client,
            config.index,
            max_backoff_s=config.max_backoff_s,
            settings=config.elasticsearch,
        )
        source = KafkaSource(config.kafka, [source_topic(kind, config.topics)], config.group_id)
        sinks: list[KafkaSink] = []
        bad_rows: BadRowOutlet
        if kind == "bad":
            bad_rows = IndexedBadRows(indexer)
        else:
            bad_sink = KafkaSink(config.kafka)
            sinks.append(bad_sink)
            bad_rows = KafkaBadRows(bad_sink, config.topics.bad)
        limits = BatchPolicy(
            max_bytes=config.bulk_max_bytes,
            max_age_s=config.flush_interval_s,
            max_count=config.bulk_max_documents,
        )
        loader = Loader(kind, indexer, bad_rows, limits, max_concurrent=config.max_concurrent_bulks)
        freeze_long_lived_objects()

        async def consume() -> None:
            if not sweeps:
                await loader.run(source)
                return
            sweeping = asyncio.create_task(_sweep_expired(client, config))
            try:
                await loader.run(source)
            finally:
                sweeping.cancel()

        await serve_source(
            source,
            sinks,
            consume,
            health_host=config.health_host,
            health_port=config.health_port,
            health_problem=lambda: indexer.health_problem() or first_problem(source, sinks),
        )
    finally:
        await client.close()


async def _sweep_expired(client: AsyncElasticsearch, config: SinkConfig) -> None:
    """Without ILM, delete the expired daily indices now and then; a failure waits for the next
    sweep."""
    while True:
        try:
            await delete_expired(
                client, config.index, datetime.now(UTC).date(), config.retention_days
            )
        except (ApiError, TransportError) as error:
            logger.warning("expired indices not deleted", extra={"error": repr(error)})
        await asyncio.sleep(SWEEP_EVERY_S)


def run(config_path: Path | None, kind: SinkKind) -> None:
    config = load_sink_config(kind, config_path)
    configure_logging(component(kind), config.logging)
    asyncio.run(serve(kind, config))
