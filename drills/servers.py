"""The drills' own Kafka and Elasticsearch, run by devstack from `.run/drills` on ports nobody
else uses, so that stopping them mid-drill disturbs no other developer's servers."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from devstack import elasticsearch, kafka
from devstack.environment import environment
from devstack.process import REPO_ROOT

KAFKA_PORT = 19096  # its KRaft controller takes 19097
ELASTICSEARCH_PORT = 9260  # transport: the first free port of devstack's 9300-9399
RUN_DIR = REPO_ROOT / ".run" / "drills"


@dataclass(frozen=True)
class Servers:
    """Where the pipeline under drill finds Kafka and Elasticsearch; `own` servers may be
    stopped and started by the drills, shared ones never."""

    kafka_bootstrap: str
    elasticsearch_url: str
    own: bool


def _as_drill_servers() -> contextlib.AbstractContextManager[None]:
    return environment(
        {
            "FURROW_RUN_DIR": str(RUN_DIR),
            "FURROW_KAFKA_PORT": str(KAFKA_PORT),
            "FURROW_ES_PORT": str(ELASTICSEARCH_PORT),
        }
    )


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
