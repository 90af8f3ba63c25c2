"""`python -m devstack up|down|status|start|stop [SERVER ...]`.

`up` starts Kafka, Elasticsearch and every Furrow service and prints where each listens; `down`
stops everything `up` started, and PostgreSQL and s3proxy if they run. `start`/`stop` act on the
named servers only (kafka, elasticsearch, postgres, s3, furrow). PostgreSQL starts only when
named, since the registry's default database is a SQLite file; so does s3proxy, an S3-compatible
server for the archive sink (port FURROW_S3_PORT, default 9000).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from types import ModuleType

from devstack import elasticsearch, furrow, kafka, postgres, s3
from devstack.launcher import answers
from devstack.process import StackError

INFRASTRUCTURE: dict[str, ModuleType] = {"kafka": kafka, "elasticsearch": elasticsearch}
# Started in this order, stopped in the reverse one.
SERVERS: dict[str, ModuleType] = {**INFRASTRUCTURE, "furrow": furrow}
ON_REQUEST: dict[str, ModuleType] = {"postgres": postgres, "s3": s3}
KNOWN: dict[str, ModuleType] = {**ON_REQUEST, **SERVERS}


def _act(names: list[str], verb: Callable[[ModuleType], bool], done: str, skipped: str) -> None:
    for name in names:
        began = time.monotonic()
        changed = verb(KNOWN[name])
        took = time.monotonic() - began
        print(f"{name}: {done if changed else skipped} ({took:.1f} s)", flush=True)


def up() -> None:
    # Asked before the services start, which would otherwise make the key and hide that it is new.
    key, generated = furrow.super_key()
    _act(list(SERVERS), lambda server: bool(server.start()), "started", "already running")
    print()
    print_table()
    print()
    origin = "generated now, kept in .run/registry-super-key" if generated else "in use"
    print(f"registry super API key ({origin}): {key}")
    print("stop everything with: make stop")


def print_table() -> None:
    rows = [
        ("kafka", kafka.address(), "up" if kafka.is_ready() else "down"),
        ("elasticsearch", elasticsearch.address(), "up" if elasticsearch.is_ready() else "down"),
    ]
    for endpoint in furrow.endpoints():
        state = "up" if answers(endpoint.health_url) else "down"
        rows.append((endpoint.component, endpoint.listens, state))
    width = max(len(row[0]) for row in rows)
    listens_width = max(len(row[1]) for row in rows)
    print(f"{'component':<{width}}  {'listens':<{listens_width}}  state")
    for component, listens, state in rows:
        print(f"{component:<{width}}  {listens:<{listens_width}}  {state}")


def main() -> int:
    arguments = argparse.ArgumentParser(prog="python -m devstack")
    arguments.add_argument("action", choices=["up", "down", "status", "start", "stop"])
    arguments.add_argument("servers", nargs="*", metavar="SERVER", help=", ".join(KNOWN))
    parsed = arguments.parse_args()
    if unknown := set(parsed.servers) - set(KNOWN):
        arguments.error(f"unknown server(s): {', '.join(sorted(unknown))}")
    try:
        if parsed.action == "up":
            up()
        elif parsed.action == "status":
            print_table()
        elif parsed.action == "start":
            names = parsed.servers or list(SERVERS)
            _act(names, lambda server: bool(server.start()), "started", "already running")
        else:
            names = parsed.servers or list(KNOWN)
            stopped = [name for name in KNOWN if name in names][::-1]
            _act(stopped, lambda server: bool(server.stop()), "stopped", "was not running")
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
