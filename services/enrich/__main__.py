"""`furrow enrich`: consume `raw`, write each record's outputs, commit after Kafka has them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import Counter

from libs.config import load_config
from libs.consumer import serve_consumer
from libs.kafka import KafkaSink, KafkaSource
from libs.log import configure_logging
from libs.pipes import Message, Record
from services.enrich.config import EnrichConfig
from services.enrich.core import enrich

RAW_RECORDS = Counter("furrow_enrich_raw_records_total", "Raw records consumed")
BAD_ROWS = Counter("furrow_enrich_bad_rows_total", "Bad rows written to the bad topic")


async def serve(config: EnrichConfig) -> None:
    source = KafkaSource(config.kafka, [config.topics.raw], config.group_id)
    sink = KafkaSink(config.kafka)

    async def handle(batch: list[Record]) -> None:
        now = datetime.now(UTC)
        bad_rows = [row for record in batch for row in enrich(record.value, now=now)]
        await sink.write([Message(config.topics.bad, row) for row in bad_rows])
        RAW_RECORDS.inc(len(batch))
        BAD_ROWS.inc(len(bad_rows))

    await serve_consumer(
        source, sink, handle, health_host=config.health_host, health_port=config.health_port
    )


def run(config_path: Path | None) -> None:
    config = load_config(EnrichConfig, "enrich", path=config_path)
    configure_logging("enrich", config.logging)
    asyncio.run(serve(config))


if __name__ == "__main__":
    run(None)
