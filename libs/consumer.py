"""Run a consumer service (libs.service): its sources, the sinks it writes to, and a drain on a
stop signal that closes the sources, finishes the batch in hand and commits it."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence

from libs.pipes import BatchHandler, Sink, Source, run_pipe
from libs.service import run_service


async def serve_consumer(
    source: Source,
    sink: Sink,
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


def first_problem(source: Source, sinks: Sequence[Sink]) -> str | None:
    return source.health_problem() or next(
        (problem for sink in sinks if (problem := sink.health_problem()) is not None), None
    )


async def serve_source(
    source: Source,
    sinks: Sequence[Sink],
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
    sources: Sequence[Source],
    sinks: Sequence[Sink],
    consume: Callable[[], Awaitable[None]],
    *,
    health_host: str,
    health_port: int,
    health_problem: Callable[[], str | None],
) -> None:
    """`serve_source` for a service reading several sources at once (each in a consumer group of
    its own): a stop signal closes them all."""
    await run_service(
        # Sinks first: a source's first batch may be handled as soon as it starts.
        [*sinks, *sources],
        consume,
        functools.partial(_close_all, sources),
        health_host=health_host,
        health_port=health_port,
        health_problem=health_problem,
    )


def _close_all(sources: Sequence[Source]) -> None:
    for source in sources:
        source.close()
