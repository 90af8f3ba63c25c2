"""`furrow collector`: read the config, open the Kafka sink, serve HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import uvicorn

from libs.config import load_config
from libs.kafka import KafkaSink
from libs.log import configure_logging
from services.collector.app import Receive, Scope, Send, build_app
from services.collector.config import CollectorConfig


def run(config_path: Path | None) -> None:
    config = load_config(CollectorConfig, "collector", path=config_path)
    configure_logging("collector", config.logging)
    sink = KafkaSink(
        config.kafka,
        write_timeout_s=config.write_timeout_s,
        linger_s=config.write_linger_ms / 1000,
    )

    @asynccontextmanager
    async def kafka_open() -> AsyncIterator[None]:
        await sink.start()
        try:
            yield
        finally:
            await sink.stop()

    serve(build_app(config, sink, lifespan=kafka_open), config)


def serve(app: Callable[[Scope, Receive, Send], Awaitable[None]], config: CollectorConfig) -> None:
    """Serve `app` (the collector, or an app around it) where `config` says, until SIGTERM."""
    uvicorn.run(
        app,
        host=config.host,
        port=config.port,
        lifespan="on",
        # The collector decides itself whether to trust X-Forwarded-For (trust_proxy_headers).
        proxy_headers=False,
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    run(None)
