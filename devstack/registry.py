"""A registry process of its own on a loopback port, for tests and benchmarks (`make run`'s
registry runs under `furrow up` instead)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from devstack.furrow import answers
from devstack.process import StackError, tail, wait_until

_START_TIMEOUT = 60.0
_STOP_TIMEOUT = 30.0


@contextlib.contextmanager
def running_registry(port: int, settings: Mapping[str, str], log: Path) -> Iterator[str]:
    """`python -m iglu_registry` on 127.0.0.1:`port` with the `FURROW_*` variables in
    `settings`, its output appended to `log`, until the block ends; yields its base URL."""
    environment = {**os.environ, **settings, "FURROW_REGISTRY_PORT": str(port)}
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "iglu_registry"],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        if process.poll() is not None:
            output = tail(log.read_text(errors="replace"))
            raise StackError(f"the registry exited during start-up; see {log}:\n{output}")
        return answers(f"{url}/api/meta/health")

    try:
        wait_until(healthy, what=f"the registry at {url}", timeout=_START_TIMEOUT, log=log)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=_STOP_TIMEOUT)
