"""Structured JSON logs on stderr, optionally shipped to a Logstash-compatible TCP listener."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime

import orjson

from libs.config import LoggingSettings

# Attributes every LogRecord has; anything else was passed through `extra=` and is kept as a field.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line with logstash-style field names, so our own logs and the logs we
    collect from Java apps look alike in the `logs` index."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "@timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger_name": record.name,
            "message": record.getMessage(),
            "service": self.service,
        }
        if record.exc_info:
            entry["stack_trace"] = self.formatException(record.exc_info)
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        return orjson.dumps(entry, default=str).decode()


def configure_logging(service: str, settings: LoggingSettings) -> None:
    """Send every log record of this process to stderr as JSON, and to `settings.ship_to` if set."""
    root = logging.getLogger()
    root.handlers.clear()
    root.setLevel(settings.level.upper())
    to_stderr = logging.StreamHandler(sys.stderr)
    to_stderr.setFormatter(JsonFormatter(service))
    root.addHandler(to_stderr)
    if settings.ship_to:
        root.addHandler(_logstash_handler(service, settings.ship_to))


def _logstash_handler(service: str, address: str) -> logging.Handler:
    # Imported here: most deployments never ship their own logs, and the handler starts a thread.
    from logstash_async.formatter import LogstashFormatter
    from logstash_async.handler import AsynchronousLogstashHandler

    host, _, port = address.rpartition(":")
    # database_path=None keeps the retry queue in memory: a service must not need a writable disk.
    handler: logging.Handler = AsynchronousLogstashHandler(host, int(port), database_path=None)
    # Top-level fields (no "extra" object), so our documents line up with logback's in `logs`.
    handler.setFormatter(LogstashFormatter(extra={"service": service}, extra_prefix=None))
    return handler
