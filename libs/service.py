"""How every long-running service runs: its parts started in order, its work run until a stop
signal (SIGTERM or SIGINT) makes the work finish what it holds, its parts stopped in reverse
order, and `/health` and `/metrics` served all along."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from libs.metrics import embedded_server, health_app
from libs.pipes import Lifecycle

logger = logging.getLogger(__name__)


async def run_service(
    parts: Sequence[Lifecycle],
    work: Callable[[], Awaitable[None]],
    on_stop_signal: Callable[[], None],
    *,
    health_host: str,
    health_port: int,
    health_problem: Callable[[], str | None],
    started: dict[str, Any] | None = None,
) -> None:
    """Start `parts`, then run `work` until it returns; `on_stop_signal` is how a stop signal
    asks it to (closing its sources, say). A part that fails to start stops those started before
    it and the reason goes up to the command, alone. `started` is logged once all is up."""
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_stop_signal)
    server = embedded_server(health_app(health_problem), health_host, health_port)
    serving = asyncio.create_task(server.serve())
    running: list[Lifecycle] = []
    try:
        try:
            for part in parts:
                await part.start()
                running.append(part)
        except BaseException:
            await _stop(running)
            raise
        logger.info("started", extra={"health_port": health_port, **(started or {})})
        try:
            await work()
        finally:
            await _stop(running)
            logger.info("stopped")
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await serving


async def _stop(parts: list[Lifecycle]) -> None:
    for part in reversed(parts):
        await part.stop()
