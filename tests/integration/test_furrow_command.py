"""The `furrow` command as a user runs it: from .venv/bin and any directory, not `python -m` from
the clone, and still with the compiled modules (which share a library at the top of the clone)."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx

from devstack.launcher import ChildProcess, clean_environment
from devstack.process import unused_port

FURROW = Path(sys.executable).with_name("furrow")


def test_furrow_collector_starts_from_any_directory(kafka_bootstrap: str, tmp_path: Path) -> None:
    port = unused_port()
    environment = clean_environment(
        {"FURROW_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "FURROW_COLLECTOR_PORT": str(port)}
    )
    health_url = f"http://127.0.0.1:{port}/health"
    collector = ChildProcess(
        "furrow collector",
        [str(FURROW), "collector"],
        environment,
        health_url,
        tmp_path / "collector.log",
        cwd=tmp_path,
    )
    with collector:
        assert collector.is_running(), collector.output()
        assert httpx.get(health_url, timeout=1).status_code == 200
