"""The `furrow` command: one subcommand per component, and `furrow up` for all of them."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from services.sinks.config import SINK_KINDS

# Each command's module is imported only when chosen, so starting one component never pays for
# the imports of the others.
SERVICE_MODULES = {
    "collector": "services.collector.__main__",
    "enrich": "services.enrich.__main__",
    "logs": "services.log_listener.__main__",
    "registry": "iglu_registry.__main__",
}


def parser() -> argparse.ArgumentParser:
    furrow = argparse.ArgumentParser(prog="furrow", description="Furrow event pipeline")
    furrow.add_argument(
        "--config", type=Path, help="TOML config file (default: $FURROW_CONFIG, else built-ins)"
    )
    commands = furrow.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("collector", help="HTTP collector for Snowplow trackers (port 8000)")
    commands.add_parser("enrich", help="enricher: raw -> good / bad")
    sink = commands.add_parser("sink", help="Elasticsearch sink for one topic")
    sink.add_argument("kind", choices=SINK_KINDS)
    commands.add_parser("logs", help="log listener for logback JSON lines (port 9600)")
    commands.add_parser("registry", help="Iglu-compatible schema registry (port 8081)")
    commands.add_parser("up", help="every component above, supervised, until SIGTERM")
    return furrow


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    if arguments.command == "up":
        from services.supervisor import supervise

        return supervise(arguments.config)
    if arguments.command == "sink":
        from services.sinks.__main__ import run as run_sink

        run_sink(arguments.config, arguments.kind)
        return 0
    importlib.import_module(SERVICE_MODULES[arguments.command]).run(arguments.config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
