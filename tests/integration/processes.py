"""Furrow services run as real processes by the integration tests, each on topics, indices,
consumer groups and ports of its own, so that nothing of the shared stack is touched."""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devstack.process import REPO_ROOT, tail

JAVA_HOME = Path("/usr/lib/jvm/java-17-openjdk-amd64")
JAVA_PROJECTS = REPO_ROOT / "tests" / "java"

# Health ports 19100-19199 and listener ports 19600-19699 are the tests'.
_HEALTH_PORTS = itertools.cycle(range(19100, 19200))
_LISTENER_PORTS = itertools.cycle(range(19600, 19700))


def free_port(ports: Iterator[int]) -> int:
    for port in ports:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise AssertionError("unreachable: the port cycles never end")


def health_port() -> int:
    return free_port(_HEALTH_PORTS)


def listener_port() -> int:
    return free_port(_LISTENER_PORTS)


@dataclass
class Names:
    """Topics, index aliases and group ids no other test (or the shared stack) uses."""

    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:10])

    def topic(self, kind: str) -> str:
        return f"test-{self.tag}-{kind}"

    def alias(self, kind: str) -> str:
        return f"test-{self.tag}-{kind}"

    def group(self, kind: str, run: int = 0) -> str:
        return f"test-{self.tag}-sink-{kind}-{run}"


@dataclass
class Service:
    process: subprocess.Popen[bytes]
    health_url: str
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return tail(self.log.read_text(errors="replace"), 40)

    def is_healthy(self) -> bool:
        try:
            return httpx.get(self.health_url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def memory_bytes(self, *, peak: bool = False) -> int:
        """Resident memory now, or at its highest so far."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        kilobytes = int(status.split("VmHWM:" if peak else "VmRSS:")[1].split()[0])
        return kilobytes * 1024

    def stop(self, timeout_s: float = 60.0) -> int:
        """SIGTERM, and the exit code once the service has drained."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"did not stop on SIGTERM:\n{self.output()}") from None


def start_service(
    args: list[str],
    env: dict[str, str],
    *,
    health_port: int,
    log: Path,
    timeout_s: float = 60,
    module: str = "services.cli",
) -> Service:
    """`furrow <args>` (or `python -m <module> <args>`) with `env` over a clean FURROW_*
    environment, once its health answers."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith("FURROW_")}
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            env={**clean, **env},
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    service = Service(process, f"http://127.0.0.1:{health_port}/health", log)
    deadline = time.monotonic() + timeout_s
    while not service.is_healthy():
        if process.poll() is not None or time.monotonic() > deadline:
            service.stop()
            raise AssertionError(f"furrow {' '.join(args)} did not come up:\n{service.output()}")
        time.sleep(0.2)
    return service


def build_java_project(name: str, into: Path) -> list[str]:
    """Builds the Maven project tests/java/`name` in a copy under `into` (the clone stays free of
    build output); the classpath to run it with."""
    project = into / name
    shutil.copytree(JAVA_PROJECTS / name, project)
    subprocess.run(
        ["mvn", "-q", "-B", "-Dstyle.color=never", "package"],
        cwd=project,
        env={**os.environ, "JAVA_HOME": str(JAVA_HOME)},
        check=True,
        capture_output=True,
    )
    return [f"{project / 'target' / 'classes'}", f"{project / 'target' / 'lib'}/*"]
