"""`furrow logs`: listen on TCP, ship every line to the `logs` topic."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from libs.batching import BatchPolicy
from libs.config import load_config
from libs.kafka import KafkaSink
from libs.log import configure_logging
from libs.service import run_service
from services.log_listener.config import LogListenerConfig
from services.log_listener.server import LogListener
from services.log_listener.shipping import LineShipper

logger = logging.getLogger(__name__)


def listening_problem(listener: LogListener, shipper: LineShipper) -> str | None:
    if not listener.is_serving():
        return "not listening"
    if not shipper.is_healthy():
        return "writes to Kafka are failing"
    return None


async def serve(config: LogListenerConfig) -> None:
    sink = KafkaSink(config.kafka)
    shipper = LineShipper(
        sink,
        config.topics.logs,
        batches=BatchPolicy(max_bytes=config.batch_bytes, max_age_s=config.linger_s),
        max_buffered_bytes=config.max_buffered_bytes,
        max_in_flight=config.max_in_flight,
        max_backoff_s=config.max_backoff_s,
    )
    listener = LogListener(config, shipper)
    stopping = asyncio.Event()

    async def ship() -> None:
        shipping = asyncio.create_task(shipper.run())
        # A shipper that died of a bug must stop the process, not let readers fill its queue.
        shipping.add_done_callback(lambda _: stopping.set())
        await stopping.wait()
        await listener.stop()
        shipper.close()
        try:
            async with asyncio.timeout(config.drain_timeout_s):
                await shipping
        except TimeoutError:
            logger.error(
                "Kafka did not take every log line before the drain timeout; they are lost",
                extra={"lines": shipper.held_entries},
            )

    await run_service(
        [sink, listener],
        ship,
        stopping.set,
        health_host=config.health_host,
        health_port=config.health_port,
        health_problem=lambda: listening_problem(listener, shipper),
        started={"port": config.port, "tls": config.tls_cert_file is not None},
    )


def run(config_path: Path | None) -> None:
    config = load_config(LogListenerConfig, "logs", path=config_path)
    configure_logging("logs", config.logging)
    asyncio.run(serve(config))


if __name__ == "__main__":
    run(None)
