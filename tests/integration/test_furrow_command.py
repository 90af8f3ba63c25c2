"""The `furrow` command as a user runs it: from .venv/bin and any directory, not `python -m` from
the clone, and still with the compiled modules (which share a library at the top of the clone)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

FURROW = Path(sys.executable).with_name("furrow")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_furrow_collector_starts_from_any_directory(kafka_bootstrap: str, tmp_path: Path) -> None:
    port = free_port()
    environment = {
        **{key: value for key, value in os.environ.items() if not key.startswith("FURROW_")},
        "FURROW_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "FURROW_COLLECTOR_PORT": str(port),
    }
    log = tmp_path / "collector.log"
    with log.open("wb") as output:
        collector = subprocess.Popen(
            [str(FURROW), "collector"],
            cwd=tmp_path,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while collector.poll() is None and time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert collector.poll() is None, log.read_text()
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
    finally:
        collector.send_signal(signal.SIGTERM)
        collector.wait(timeout=30)
