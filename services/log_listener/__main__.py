"""`furrow logs`: listen on TCP, ship every line to the `logs` topic."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path

from libs.config import load_config
from libs.kafka import KafkaSink
from libs.log import configure_logging
from libs.metrics import embedded_server, health_app
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
    await sink.start()
    shipper = LineShipper(
        sink,
        config.topics.logs,
        max_batch_bytes=config.batch_bytes,
        max_buffered_bytes=config.max_buffered_bytes,
        linger_s=config.linger_s,
        max_in_flight=config.max_in_flight,
        max_backoff_s=config.max_backoff_s,
    )
    shipping = asyncio.create_task(shipper.run())
    listener = LogListener(config, shipper)
    await listener.start()
    health = embedded_server(
        health_app(lambda: listening_problem(listener, shipper)),
        config.health_host,
        config.health_port,
    )
    serving_health = asyncio.create_task(health.serve())
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    # A shipper that died of a bug must stop the process, not let readers fill its queue.
    shipping.add_done_callback(lambda _: stopping.set())
    logger.info("listening", extra={"port": config.port, "tls": config.tls_cert_file is not None})
    try:
        await stopping.wait()
    finally:
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
        health.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await serving_health
        await sink.stop()
        logger.info("stopped")


def run(config_path: Path | None) -> None:
    config = load_config(LogListenerConfig, "logs", path=config_path)
    configure_logging("logs", config.logging)
    asyncio.run(serve(config))


if __name__ == "__main__":
    run(None)
