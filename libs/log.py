"""Structured JSON logs on stderr, optionally shipped to a Logstash-compatible TCP listener."""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
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


# How long repeats of one message are held back before a summary of them goes out.
REPEAT_WINDOW_S = 10.0
# Numbers (ports, ids, milliseconds) differ between repeats of what is the same message.
_NUMBERS = re.compile(r"\d+")


@dataclass
class _Window:
    opened_at: float
    held_back: int = 0


class RepeatFilter(logging.Filter):
    """Lets the first record of each kind through, then holds back its repeats for
    `window_s`; the first repeat after that goes out with the count of those held back in
    `repeats_held_back`. One instance per handler: it keeps the state of what it let through.

    A client library that cannot reach its server says so on every retry, hundreds of times a
    minute; one line and a count tell an operator as much. Records are of one kind when their
    logger, level and message agree but for numbers."""

    def __init__(
        self, window_s: float = REPEAT_WINDOW_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self._window_s = window_s
        self._clock = clock
        self._windows: dict[tuple[str, int, str], _Window] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        now = self._clock()
        message = record.getMessage()
        kind = (record.name, record.levelno, _NUMBERS.sub("#", message))
        window = self._windows.get(kind)
        if window is not None and now - window.opened_at < self._window_s:
            window.held_back += 1
            return False
        if window is not None and window.held_back:
            # A field of its own (the formatters keep every extra attribute), so the message
            # stays as it is for a search.
            record.repeats_held_back = window.held_back
        self._forget_closed_windows(now)
        self._windows[kind] = _Window(now)
        return True

    def _forget_closed_windows(self, now: float) -> None:
        # Only windows with nothing held back: the others still owe their count.
        if len(self._windows) > 1000:
            self._windows = {
                kind: window
                for kind, window in self._windows.items()
                if window.held_back or now - window.opened_at < self._window_s
            }


def configure_logging(service: str, settings: LoggingSettings) -> None:
    """Send every log record of this process to stderr as JSON, and to `settings.ship_to` if set."""
    root = logging.getLogger()
    root.handlers.clear()
    root.setLevel(settings.level.upper())
    to_stderr = logging.StreamHandler(sys.stderr)
    to_stderr.setFormatter(JsonFormatter(service))
    to_stderr.addFilter(RepeatFilter())
    root.addHandler(to_stderr)
    if settings.ship_to:
        shipped = _logstash_handler(service, settings.ship_to)
        shipped.addFilter(RepeatFilter())
        root.addHandler(shipped)


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
