"""Furrow components as real `furrow ...` processes that a drill can kill -9 and start again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devstack.process import REPO_ROOT, tail

_START_TIMEOUT_S = 90.0
_STOP_TIMEOUT_S = 60.0


class ComponentError(RuntimeError):
    """A component did not come up, or did not stop on SIGTERM; the message quotes its log."""


def furrow_environment(settings: dict[str, str]) -> dict[str, str]:
    """This process's environment with `settings` as its only FURROW_* variables."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith("FURROW_")}
    return {**clean, **settings}


def answers(url: str) -> bool:
    """True when `url` answers 200 within 2 s."""
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass
class Component:
    """`furrow <args>` with `settings` as its only FURROW_* variables, output appended to `log`."""

    name: str
    args: list[str]
    settings: dict[str, str]
    health_url: str
    log: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        """Start the process and return once its health URL answers 200."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "services.cli", *self.args],
                env=furrow_environment(self.settings),
                cwd=REPO_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self.wait_healthy(_START_TIMEOUT_S)

    def wait_healthy(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not self.is_healthy():
            if not self.is_running() or time.monotonic() > deadline:
                raise ComponentError(f"{self.name} is not healthy:\n{self.output()}")
            time.sleep(0.2)

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def is_healthy(self) -> bool:
        return answers(self.health_url)

    def health(self) -> str:
        """What its health URL says now, for a report."""
        try:
            response = httpx.get(self.health_url, timeout=2)
        except httpx.HTTPError as error:
            return f"no answer: {error!r}"
        return f"{response.status_code} {response.text[:300]}"

    def kill(self) -> None:
        """SIGKILL: no draining, no commit, no goodbye."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        """SIGTERM, waiting for the component to drain."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()
            raise ComponentError(f"{self.name} did not stop on SIGTERM:\n{self.output()}") from None

    def output(self) -> str:
        return tail(self.log.read_text(errors="replace"), 30) if self.log.exists() else ""
