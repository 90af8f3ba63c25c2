"""One short fault drill in the normal suite, through the same harness as `make drill`: the
enricher killed with SIGKILL under load and started again, then every event the collector
answered 200 is in Elasticsearch exactly once, in the index it belongs in. Runs on the shared
Kafka and Elasticsearch (topics and aliases of its own); the full drills, which stop servers,
run only under `make drill` on servers of their own."""

from __future__ import annotations

from pathlib import Path

from drills.catalog import DRILLS, Timings
from drills.pipeline import Ports
from drills.run import run_drill
from drills.servers import Servers
from tests.integration.processes import health_port
from tests.integration.registry_servers import free_port

SHORT = Timings(warmup_s=4, settle_s=4, recover_timeout_s=120, drain_timeout_s=120)


async def test_enricher_killed_mid_stream_loses_and_doubles_nothing(
    kafka_bootstrap: str, elasticsearch_url: str, tmp_path: Path
) -> None:
    servers = Servers(kafka_bootstrap, elasticsearch_url, own=False)
    ports = Ports(health_port(), free_port(), health_port(), health_port(), health_port())

    result = await run_drill(DRILLS["enrich-kill"], servers, ports, SHORT, tmp_path)

    assert result.error is None, result.notes
    assert result.tally is not None
    assert result.tally.answered_200 > 0
    assert result.tally.in_good > 0
    assert result.tally.in_bad > 0
    assert (result.tally.missing, result.tally.duplicates, result.tally.misplaced) == (0, 0, 0)
    assert result.recovery_s is not None
    assert result.passed
