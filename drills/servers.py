"""The drills' own Kafka and Elasticsearch, run by devstack from `.run/drills`, so that stopping
them mid-drill disturbs no other developer's servers.

Their ports are handed out by the system when the servers are not running, and kept in the run
directory: the drills' stops and starts, and a later run reusing servers left running
(`--keep-servers`), find them there, and the drills of another clone (or CI's) never meet
these."""

from __future__ import annotations

import contextlib
import functools
import json
from dataclasses import dataclass

from devstack import elasticsearch, kafka
from devstack.environment import environment
from devstack.process import REPO_ROOT, free_ports, read_pid

RUN_DIR = REPO_ROOT / ".run" / "drills"
PORTS_FILE = RUN_DIR / "ports.json"


@dataclass(frozen=True)
class Servers:
    """Where the pipeline under drill finds Kafka and Elasticsearch; `own` servers may be
    stopped and started by the drills, shared ones never."""

    kafka_bootstrap: str
    elasticsearch_url: str
    own: bool


def _as_drill_servers() -> contextlib.AbstractContextManager[None]:
    return environment({"FURROW_RUN_DIR": str(RUN_DIR), **_ports()})


@functools.cache
def _ports() -> dict[str, str]:
    """FURROW_KAFKA_PORT and FURROW_ES_PORT of the drills' servers, chosen once per process."""
    if PORTS_FILE.is_file() and _running():
        kept: dict[str, str] = json.loads(PORTS_FILE.read_text())
        return kept
    # Kafka's KRaft controller takes the port after the broker's.
    chosen = {
        "FURROW_KAFKA_PORT": str(free_ports(2, consecutive=True)[0]),
        "FURROW_ES_PORT": str(free_ports(1)[0]),
    }
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    PORTS_FILE.write_text(json.dumps(chosen))
    return chosen


def _running() -> bool:
    """Whether a server of the drills' run directory is running (its ports are then taken)."""
    with environment({"FURROW_RUN_DIR": str(RUN_DIR)}):
        return any(read_pid(name) is not None for name in ("kafka", "elasticsearch"))


def start_own() -> Servers:
    """Start (or reuse) the drills' Kafka and Elasticsearch and return where they answer."""
    start_kafka()
    start_elasticsearch()
    with _as_drill_servers():
        return Servers(kafka.address(), elasticsearch.address(), own=True)


def stop_own() -> None:
    stop_kafka()
    stop_elasticsearch()


def start_kafka() -> None:
    with _as_drill_servers():
        kafka.start()


def stop_kafka() -> None:
    with _as_drill_servers():
        kafka.stop()


def start_elasticsearch() -> None:
    with _as_drill_servers():
        elasticsearch.start()


def stop_elasticsearch() -> None:
    with _as_drill_servers():
        elasticsearch.stop()
