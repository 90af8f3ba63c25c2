"""The TCP side of the listener: one task per connection, lines written through to Kafka."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from prometheus_client import Counter, Gauge

from libs.pipes import Message, Sink, SinkError
from services.log_listener.config import LogListenerConfig
from services.log_listener.framing import LineFramer, log_entry

logger = logging.getLogger(__name__)

READ_SIZE = 65_536

CONNECTIONS = Gauge("furrow_logs_connections", "Open TCP connections")
LINES = Counter("furrow_logs_lines_total", "Log lines written to the logs topic")


ConnectionHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def connection_handler(config: LogListenerConfig, sink: Sink) -> ConnectionHandler:
    """Read each connection until EOF or idle timeout, storing its lines as they complete."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer_host, peer_port = writer.get_extra_info("peername")[:2]
        framer = LineFramer(config.max_line_bytes)
        CONNECTIONS.inc()
        try:
            while True:
                try:
                    async with asyncio.timeout(config.idle_timeout_s):
                        chunk = await reader.read(READ_SIZE)
                except TimeoutError:
                    break
                lines = framer.feed(chunk) if chunk else framer.finish()
                received = datetime.now(UTC)
                entries = [
                    entry
                    for line in lines
                    if (
                        entry := log_entry(
                            line, peer_host=peer_host, peer_port=peer_port, received=received
                        )
                    )
                    is not None
                ]
                if entries:
                    # Waiting for Kafka here is the back-pressure: a peer is read no faster
                    # than its lines are stored.
                    await sink.write([Message(config.topics.logs, entry) for entry in entries])
                    LINES.inc(len(entries))
                if not chunk:
                    break
        except ConnectionError:
            logger.info("connection reset", extra={"peer": f"{peer_host}:{peer_port}"})
        except SinkError:
            # Closing makes the appender reconnect later; its own buffer holds what it sends next.
            logger.exception("Kafka refused log lines", extra={"peer": f"{peer_host}:{peer_port}"})
        finally:
            CONNECTIONS.dec()
            writer.close()

    return handle
