"""The TCP side of the listener: one task per connection, reading lines and handing their
entries to the shipper, never waiting for Kafka unless the shipper is full."""

from __future__ import annotations

import asyncio
import logging
import ssl
from datetime import UTC, datetime

from prometheus_client import Counter, Gauge

from services.log_listener.config import LogListenerConfig
from services.log_listener.framing import Line, LineFramer, log_entry
from services.log_listener.shipping import LineShipper

logger = logging.getLogger(__name__)

READ_SIZE = 65_536
# Room left in a Kafka request for the record's own framing around one log entry.
KAFKA_RECORD_OVERHEAD_BYTES = 512

CONNECTIONS = Gauge("furrow_logs_connections", "Open TCP connections")
REFUSED = Counter("furrow_logs_connections_refused_total", "Connections over max_connections")
IDLE_CLOSED = Counter("furrow_logs_connections_idle_closed_total", "Connections closed when idle")
TRUNCATED = Counter("furrow_logs_lines_truncated_total", "Lines cut to max_line_bytes")


class LogListener:
    """Accepts connections on `config.host:config.port` and ships every line they send."""

    def __init__(self, config: LogListenerConfig, shipper: LineShipper) -> None:
        self._config = config
        self._shipper = shipper
        self._max_entry_bytes = config.kafka.max_request_size - KAFKA_RECORD_OVERHEAD_BYTES
        self._connections: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None

    def is_serving(self) -> bool:
        return self._server is not None and self._server.is_serving()

    @property
    def port(self) -> int:
        """The port listened on (the one the system chose when configured as 0)."""
        assert self._server is not None, "start() first"
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._handle,
            self._config.host,
            self._config.port,
            ssl=_tls_context(self._config),
            # Far beyond the default 100: a fleet of appenders reconnecting at once.
            backlog=4096,
        )

    async def stop(self) -> None:
        """Stop accepting and close every connection; what they had sent is already handed over
        (a partial last line included)."""
        if self._server is not None:
            self._server.close()
        for connection in list(self._connections):
            connection.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self._connections) >= self._config.max_connections:
            REFUSED.inc()
            writer.close()
            return
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        CONNECTIONS.inc()
        peer = writer.get_extra_info("peername")
        peer_host, peer_port = (str(peer[0]), int(peer[1])) if peer else ("unknown", 0)
        framer = LineFramer(self._config.max_line_bytes)
        try:
            await self._read(reader, framer, peer_host, peer_port)
        except asyncio.CancelledError:
            # Only stop() cancels a connection: the partial line read so far is kept, and the
            # task ends normally, as asyncio's stream callback (3.11) logs a cancelled one as an
            # error.
            self._hand_over(framer.finish(), peer_host, peer_port)
        except OSError as error:
            # Reset by the peer, or a TLS error: what arrived before it is kept.
            logger.info(
                "connection lost", extra={"peer": f"{peer_host}:{peer_port}", "error": repr(error)}
            )
            self._hand_over(framer.finish(), peer_host, peer_port)
        finally:
            self._connections.discard(task)
            CONNECTIONS.dec()
            writer.close()

    async def _read(
        self, reader: asyncio.StreamReader, framer: LineFramer, peer_host: str, peer_port: int
    ) -> None:
        while True:
            try:
                async with asyncio.timeout(self._config.idle_timeout_s):
                    chunk = await reader.read(READ_SIZE)
            except TimeoutError:
                IDLE_CLOSED.inc()
                # The appender reconnects when it logs again; a partial line is not coming back.
                self._hand_over(framer.finish(), peer_host, peer_port)
                return
            lines = framer.feed(chunk) if chunk else framer.finish()
            self._hand_over(lines, peer_host, peer_port)
            if not chunk:
                return
            await self._shipper.wait_for_room()

    def _hand_over(self, lines: list[Line], peer_host: str, peer_port: int) -> None:
        if not lines:
            return
        received = datetime.now(UTC)
        entries: list[bytes] = []
        for line in lines:
            entry = log_entry(
                line,
                peer_host=peer_host,
                peer_port=peer_port,
                received=received,
                max_bytes=self._max_entry_bytes,
            )
            if entry is not None:
                entries.append(entry)
            if line.truncated:
                TRUNCATED.inc()
        if entries:
            self._shipper.hand_over(entries)


def _tls_context(config: LogListenerConfig) -> ssl.SSLContext | None:
    if config.tls_cert_file is None or config.tls_key_file is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(config.tls_cert_file, config.tls_key_file)
    return context
