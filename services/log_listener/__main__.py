"""`furrow logs`: listen on TCP, write every line to the `logs` topic."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path

from libs.config import load_config
from libs.kafka import KafkaSink
from libs.log import configure_logging
from libs.metrics import embedded_server, health_app
from services.log_listener.config import LogListenerConfig
from services.log_listener.server import connection_handler


async def serve(config: LogListenerConfig) -> None:
    sink = KafkaSink(config.kafka)
    await sink.start()
    listener = await asyncio.start_server(
        connection_handler(config, sink), config.host, config.port
    )
    health = embedded_server(
        health_app(lambda: listener.is_serving()), config.health_host, config.health_port
    )
    serving_health = asyncio.create_task(health.serve())
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    try:
        await stopping.wait()
    finally:
        listener.close()
        await listener.wait_closed()
        health.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await serving_health
        await sink.stop()


def run(config_path: Path | None) -> None:
    config = load_config(LogListenerConfig, "logs", path=config_path)
    configure_logging("logs", config.logging)
    asyncio.run(serve(config))


if __name__ == "__main__":
    run(None)
