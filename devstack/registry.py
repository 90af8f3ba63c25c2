"""A registry process of its own on a loopback port, for tests and benchmarks (`make run`'s
registry runs under `furrow up` instead)."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from devstack.launcher import ChildProcess


@contextlib.contextmanager
def running_registry(port: int, settings: Mapping[str, str], log: Path) -> Iterator[str]:
    """`python -m iglu_registry` on 127.0.0.1:`port` with the `FURROW_*` variables in
    `settings`, its output appended to `log`, until the block ends; yields its base URL."""
    environment = {**os.environ, **settings, "FURROW_REGISTRY_PORT": str(port)}
    url = f"http://127.0.0.1:{port}"
    registry = ChildProcess(
        f"the registry at {url}",
        [sys.executable, "-m", "iglu_registry"],
        environment,
        f"{url}/api/meta/health",
        log,
        stop_grace_s=30,
    )
    with registry:
        yield url
