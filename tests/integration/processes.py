"""Furrow services run as real processes by the integration tests, each on topics, indices,
consumer groups and ports of its own, so that nothing of the shared stack is touched."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from devstack.launcher import ChildProcess, clean_environment, furrow_argv
from devstack.process import REPO_ROOT, unused_port

JAVA_HOME = Path("/usr/lib/jvm/java-17-openjdk-amd64")
JAVA_PROJECTS = REPO_ROOT / "tests" / "java"


def health_port() -> int:
    """A port for a service's health and metrics, handed out by the system: a fixed range would
    be taken in the same order by another session's tests, whose service could then answer our
    health check."""
    return unused_port()


def listener_port() -> int:
    """A port for a service's listener (the log listener's TCP port), handed out by the system."""
    return unused_port()


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


# What start_service hands back: the tests' name for a child process of devstack's launcher.
Service = ChildProcess


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
    service = ChildProcess(
        f"furrow {' '.join(args)}",
        furrow_argv(*args, module=module),
        clean_environment(env),
        f"http://127.0.0.1:{health_port}/health",
        log,
        start_timeout_s=timeout_s,
    )
    service.start()
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
