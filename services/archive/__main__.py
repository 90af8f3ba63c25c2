"""`furrow archive`: consume good, bad and/or logs, write gzip files to a directory or a bucket,
commit once the files are published."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from libs.batching import BatchPolicy
from libs.config import load_config
from libs.consumer import serve_source
from libs.kafka import KafkaSink, KafkaSource
from libs.log import configure_logging
from services.archive.archiver import Archiver
from services.archive.config import ArchiveConfig
from services.archive.targets import LocalDirectory, archive_target
from services.sinks.loader import KafkaBadRows

logger = logging.getLogger(__name__)

# How often a local directory's expired hours are looked for, at most.
RETENTION_SWEEP_EVERY_S = 600.0


async def serve(config: ArchiveConfig) -> None:
    target = archive_target(config)
    await target.check()
    logger.info("archiving", extra={"target": target.describe(), "kinds": config.kinds})
    kinds = {config.topic_of(kind): kind for kind in config.kinds}
    source = KafkaSource(config.kafka, list(kinds), config.group_id)
    bad_sink = KafkaSink(config.kafka)
    archiver = Archiver(
        kinds,
        target,
        KafkaBadRows(bad_sink, config.topics.bad),
        prefix=config.prefix,
        good_format=config.good_format,
        policy=BatchPolicy(max_bytes=config.max_bytes, max_age_s=config.max_age_s),
        max_concurrent=config.max_concurrent_publishes,
        max_backoff_s=config.max_backoff_s,
    )

    async def consume() -> None:
        async with asyncio.TaskGroup() as tasks:
            sweeping = None
            if isinstance(target, LocalDirectory) and config.directory_retention_days is not None:
                retention = timedelta(days=config.directory_retention_days)
                sweeping = tasks.create_task(_sweep_expired(target, retention))
            await archiver.run(source)
            if sweeping is not None:
                sweeping.cancel()

    await serve_source(
        source,
        [bad_sink],
        consume,
        health_host=config.health_host,
        health_port=config.health_port,
        health_problem=lambda: archiver.health_problem() or source.health_problem(),
    )


async def _sweep_expired(directory: LocalDirectory, retention: timedelta) -> None:
    every_s = min(RETENTION_SWEEP_EVERY_S, retention.total_seconds() / 4)
    while True:
        deleted = await directory.delete_expired(datetime.now(UTC), retention)
        if deleted:
            logger.info("expired hours deleted", extra={"hours": deleted})
        await asyncio.sleep(every_s)


def run(config_path: Path | None) -> None:
    config = load_config(ArchiveConfig, "archive", path=config_path)
    configure_logging("archive", config.logging)
    asyncio.run(serve(config))
