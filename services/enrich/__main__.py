"""`furrow enrich`: consume `raw`, write every event's output, commit once Kafka has them."""

from __future__ import annotations

import asyncio
import collections
import time
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import Counter

from libs.config import load_config
from libs.consumer import serve_consumer
from libs.iglu_client import Resolver
from libs.iglu_repositories import resolver_repositories
from libs.kafka import KafkaSink, KafkaSource
from libs.log import configure_logging
from libs.memory import freeze_long_lived_objects
from libs.pipes import Message, Record, write_patiently
from services.enrich.config import EnrichConfig
from services.enrich.core import Enricher, Outputs
from services.enrich.enrichments import load_enrichments
from services.enrich.rules import Deduplicator, ValidityRules

RAW_RECORDS = Counter("furrow_enrich_raw_records_total", "Raw records consumed")
GOOD_EVENTS = Counter("furrow_enrich_good_events_total", "Enriched events written to good")
BAD_ROWS = Counter("furrow_enrich_bad_rows_total", "Bad rows written to bad", ["type"])
DUPLICATES = Counter("furrow_enrich_duplicates_total", "Exact duplicates dropped")

# The core runs on the event loop, not in a worker thread: passing the GIL to and fro between
# such a thread and the loop's Kafka I/O costs CPU on every event (figures in
# docs/performance.md). Looking at the loop this often while a batch is enriched keeps Kafka's
# heartbeats and fetches going. (A schema lookup from a registry that does not answer still
# holds the loop for its timeouts; a lookup of more than the consumer's session timeout makes
# the group rebalance, and the batch is read again.)
LOOK_AT_THE_LOOP_EVERY_S = 0.02


def build_enricher(config: EnrichConfig) -> Enricher:
    resolver = Resolver(
        resolver_repositories(config.repositories(), builtin_priority=config.builtin_priority),
        cache_size=config.schema_cache_size,
        cache_ttl_s=config.schema_cache_ttl_s,
        miss_ttl_s=config.schema_miss_ttl_s,
        # Each remote repository backs off on its own after a failure; retrying here would
        # hold the event loop for every lookup while one is down.
        attempts=1,
    )
    resolver.follow_changes(config.schema_changes_poll_s)
    enrichments = load_enrichments(config.enrichments_dir) if config.enrichments_dir else []
    enricher = Enricher(
        validator=resolver,
        enrichments=enrichments,
        rules=ValidityRules(
            max_device_age_s=config.max_device_age_s,
            max_device_future_s=config.max_device_future_s,
            required_fields=config.required_fields,
        ),
        deduplicator=Deduplicator(config.dedup_window_s, config.dedup_max_events),
        telemetry_vendor=config.telemetry_vendor,
        max_event_bytes=config.kafka.max_request_size - 1024,
    )
    freeze_long_lived_objects()
    return enricher


async def serve(config: EnrichConfig) -> None:
    enricher = build_enricher(config)
    source = KafkaSource(config.kafka, [config.topics.raw], config.group_id)
    sink = KafkaSink(config.kafka)

    async def handle(batch: list[Record]) -> None:
        outputs = Outputs()
        now = datetime.now(UTC)
        looked_at = time.monotonic()
        for record in batch:
            enricher.enrich(record.value, now=now, outputs=outputs)
            if time.monotonic() - looked_at > LOOK_AT_THE_LOOP_EVERY_S:
                await asyncio.sleep(0)
                looked_at = time.monotonic()
        messages = [Message(config.topics.good, line.encode()) for line in outputs.good]
        messages += [Message(config.topics.bad, row) for row in outputs.bad]
        await write_patiently(sink, messages, max_backoff_s=config.max_backoff_s)
        RAW_RECORDS.inc(len(batch))
        GOOD_EVENTS.inc(len(outputs.good))
        DUPLICATES.inc(outputs.duplicates)
        for kind, count in collections.Counter(outputs.bad_kinds).items():
            BAD_ROWS.labels(kind).inc(count)

    await serve_consumer(
        source, sink, handle, health_host=config.health_host, health_port=config.health_port
    )


def run(config_path: Path | None) -> None:
    config = load_config(EnrichConfig, "enrich", path=config_path)
    configure_logging("enrich", config.logging)
    asyncio.run(serve(config))


if __name__ == "__main__":
    run(None)
