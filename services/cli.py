"""The `furrow` command: one subcommand per component, and `furrow up` for all of them."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from libs.config import ConfigError, SetupError
from services.sinks.config import SINK_KINDS

# Each command's module is imported only when chosen, so starting one component never pays for
# the imports of the others.
SERVICE_MODULES = {
    "archive": "services.archive.__main__",
    "collector": "services.collector.__main__",
    "console": "services.console.__main__",
    "enrich": "services.enrich.__main__",
    "forward": "services.forward.__main__",
    "logs": "services.log_listener.__main__",
    "micro": "services.micro.__main__",
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
    commands.add_parser(
        "forward", help="good -> HTTP endpoints, Amplitude, Kafka topics ([forward] config)"
    )
    commands.add_parser("archive", help="good / bad / logs into gzip files: a directory or S3")
    commands.add_parser("logs", help="log listener for logback JSON lines (port 9600)")
    commands.add_parser("registry", help="Iglu-compatible schema registry (port 8081)")
    commands.add_parser(
        "console", help="web console over Elasticsearch, with Snowplow Micro's API (port 9190)"
    )
    commands.add_parser(
        "micro", help="collector + enricher in one process with Snowplow Micro's API (port 9090)"
    )
    commands.add_parser("up", help="every component above, supervised, until SIGTERM")
    _registry_commands(commands)
    _replay_command(commands)
    return furrow


def _replay_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    replay = commands.add_parser(
        "replay", help="send bad rows of one type from `bad` back to `raw` for enrichment"
    )
    replay.add_argument(
        "--type",
        required=True,
        metavar="TYPE",
        help="bad-row type: schema_violations, enrichment_failures, tracker_protocol_violations "
        "or adapter_failures",
    )
    replay.add_argument(
        "--schema", metavar="VENDOR/NAME", help="only rows naming this schema (a URI prefix)"
    )
    replay.add_argument(
        "--since", metavar="TIME", help="only rows failed at or after (ISO 8601, UTC if no zone)"
    )
    replay.add_argument("--dry-run", action="store_true", help="count, write nothing")
    replay.add_argument(
        "--no-progress", dest="progress", action="store_false", help="no progress bar"
    )


def _registry_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    registry = argparse.ArgumentParser(add_help=False)
    registry.add_argument(
        "--registry", metavar="URL", help="registry base URL (default: from [registry] config)"
    )
    registry.add_argument(
        "--apikey-file",
        type=Path,
        metavar="PATH",
        help="a file holding the API key (default: $FURROW_APIKEY, else the super key, "
        "$FURROW_REGISTRY_SUPER_KEY); never the key itself, which the command line would show",
    )
    schemas = commands.add_parser("schemas", help="lint or push a vendor/name/format/M-R-A tree")
    actions = schemas.add_subparsers(dest="action", required=True, metavar="ACTION")
    push = actions.add_parser("push", parents=[registry], help="publish in SchemaVer order")
    push.add_argument("directory", type=Path)
    push.add_argument("--public", action="store_true", help="readable without a key")
    lint = actions.add_parser("lint", help="check every schema and the order, offline")
    lint.add_argument("directory", type=Path)
    keys = commands.add_parser("keys", help="registry API keys")
    key_actions = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = key_actions.add_parser(
        "create", parents=[registry], help="a read and a write key for a vendor prefix"
    )
    create.add_argument("prefix", help="e.g. com.acme (covers com.acme.*), or *")


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    try:
        return _run(arguments)
    except (ConfigError, SetupError) as error:
        # What to change, without a traceback around it; a supervisor starts the command again.
        print(f"furrow {arguments.command}: {error}", file=sys.stderr)
        return 2


def _run(arguments: argparse.Namespace) -> int:
    if arguments.command == "up":
        from services.supervisor import supervise

        return supervise(arguments.config)
    if arguments.command in ("schemas", "keys"):
        from iglu_registry.cli import run as run_registry_tool

        return run_registry_tool(arguments)
    if arguments.command == "replay":
        from services.replay.__main__ import run as run_replay

        return run_replay(arguments)
    if arguments.command == "sink":
        from services.sinks.__main__ import run as run_sink

        run_sink(arguments.config, arguments.kind)
        return 0
    importlib.import_module(SERVICE_MODULES[arguments.command]).run(arguments.config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
