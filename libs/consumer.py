"""Run a consumer service: its Kafka source, the Kafka sinks it writes to, a health and metrics
port, and a clean drain on SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence

from libs.kafka import KafkaSink, KafkaSource
from libs.metrics import embedded_server, health_app
from libs.pipes import BatchHandler, run_pipe

logger = logging.getLogger(__name__)


async def serve_consumer(
    source: KafkaSource,
    sink: KafkaSink,
    handle: BatchHandler,
    *,
    health_host: str,
    health_port: int,
) -> None:
    """Consume until a stop signal, then finish the batch in hand, commit it and return.

    `handle` writes its outputs through `sink`, which is open for as long as the source is."""
    await serve_source(
        source,
        [sink],
        lambda: run_pipe(source, handle),
        health_host=health_host,
        health_port=health_port,
    )


def first_problem(source: KafkaSource, sinks: Sequence[KafkaSink]) -> str | None:
    return source.health_problem() or next(
        (problem for sink in sinks if (problem := sink.health_problem()) is not None), None
    )


async def serve_source(
    source: KafkaSource,
    sinks: Sequence[KafkaSink],
    consume: Callable[[], Awaitable[None]],
    *,
    health_host: str,
    health_port: int,
    health_problem: Callable[[], str | None] | None = None,
) -> None:
    """Run `consume` (which reads `source` until it is closed) until a stop signal closes the
    source and `consume` returns. `sinks` are open for as long as the source is. `/health` says
    `health_problem()`, by default the source's or else a sink's."""
    await serve_sources(
        [source],
        sinks,
        consume,
        health_host=health_host,
        health_port=health_port,
        health_problem=health_problem or functools.partial(first_problem, source, sinks),
    )


async def serve_sources(
    sources: Sequence[KafkaSource],
    sinks: Sequence[KafkaSink],
    consume: Callable[[], Awaitable[None]],
    *,
    health_host: str,
    health_port: int,
    health_problem: Callable[[], str | None],
) -> None:
    """`serve_source` for a service reading several sources at once (each in a consumer group of
    its own): a stop signal closes them all."""
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, _close_all, sources)
    server = embedded_server(health_app(health_problem), health_host, health_port)
    serving = asyncio.create_task(server.serve())
    started: list[KafkaSource] = []
    try:
        for sink in sinks:
            await sink.start()
        for source in sources:
            await source.start()
            started.append(source)
    except BaseException:
        # Settings the servers refuse: the reason goes up to the command, alone.
        for source in started:
            await source.stop()
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await serving
        raise
    logger.info("consuming", extra={"health_port": health_port})
    try:
        await consume()
    finally:
        for source in sources:
            await source.stop()
        for sink in sinks:
            await sink.stop()
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await serving
        logger.info("stopped")


def _close_all(sources: Sequence[KafkaSource]) -> None:
    for source in sources:
        source.close()
