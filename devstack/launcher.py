"""Commands run as children of this process for as long as a test, a benchmark or a drill needs
them: started with an environment and a log file, ready once a health URL answers 200, stopped
with SIGTERM (SIGKILL after a grace period), killed or started again.

The servers of `make run` outlive the command that starts them and are run by
`process.start_background` instead."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devstack.process import REPO_ROOT, StackError, tail


class LaunchError(StackError):
    """A child did not come up, or did not stop on SIGTERM; the message quotes its log."""


def answers(url: str, *, timeout_s: float = 2.0) -> bool:
    """True when `url` answers 200 within `timeout_s`."""
    try:
        return httpx.get(url, timeout=timeout_s).status_code == 200
    except httpx.HTTPError:
        return False


def clean_environment(settings: Mapping[str, str]) -> dict[str, str]:
    """This process's environment with `settings` as its only FURROW_* variables, so that a
    developer's exported ports or topics never reach a child meant to use its own."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith("FURROW_")}
    return {**clean, **settings}


def furrow_argv(*args: str, module: str = "services.cli") -> list[str]:
    """`furrow <args>` as this interpreter runs it from the clone (`python -m <module>`)."""
    return [sys.executable, "-m", module, *args]


@dataclass
class ChildProcess:
    """`argv` with the environment `env` (complete, not added to this process's), its output
    appended to `log`; healthy while `health_url` answers 200. As a context manager: started
    on entry, stopped (SIGTERM) on exit."""

    name: str
    argv: list[str]
    env: dict[str, str]
    health_url: str
    log: Path
    cwd: Path = REPO_ROOT
    start_timeout_s: float = 60.0
    # How long SIGTERM may take (a sink drains its bulks and commits) before SIGKILL.
    stop_grace_s: float = 60.0
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    def start(self) -> None:
        """Start the command and return once its health URL answers 200. If it exits first, or
        is not healthy within `start_timeout_s`, it is killed and LaunchError quotes its log."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as output:
            self._process = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + self.start_timeout_s
        while not self.is_healthy():
            if not self.is_running() or time.monotonic() > deadline:
                self.kill()
                raise LaunchError(f"{self.name} did not come up; see {self.log}:\n{self.output()}")
            time.sleep(0.2)

    def restart(self) -> None:
        """Stop (SIGTERM, drained) and start again."""
        self.stop()
        self.start()

    @property
    def pid(self) -> int:
        return self._started().pid

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def is_healthy(self) -> bool:
        return answers(self.health_url)

    def health(self) -> str:
        """What its health URL says now, for a report."""
        try:
            response = httpx.get(self.health_url, timeout=2)
        except httpx.HTTPError as error:
            return f"no answer: {error!r}"
        return f"{response.status_code} {response.text[:300]}"

    def output(self, lines: int = 40) -> str:
        """The last `lines` lines of its log."""
        return tail(self.log.read_text(errors="replace"), lines) if self.log.exists() else ""

    def memory_bytes(self, *, peak: bool = False) -> int:
        """Resident memory now, or at its highest so far."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        kilobytes = int(status.split("VmHWM:" if peak else "VmRSS:")[1].split()[0])
        return kilobytes * 1024

    def send_signal(self, signum: int) -> None:
        """Signal it if it runs, without waiting."""
        if self.is_running():
            self._started().send_signal(signum)

    def wait(self, timeout_s: float) -> int:
        """Its exit code once it has exited; subprocess.TimeoutExpired past `timeout_s`."""
        return self._started().wait(timeout_s)

    def kill(self) -> None:
        """SIGKILL: no draining, no commit, no goodbye."""
        self.send_signal(signal.SIGKILL)
        if self._process is not None:
            self._process.wait()

    def stop(self) -> int | None:
        """SIGTERM, and its exit code once it has drained (None if it was never started); if it
        is still running after `stop_grace_s`, SIGKILL and LaunchError."""
        if self._process is None:
            return None
        self.send_signal(signal.SIGTERM)
        try:
            return self._process.wait(self.stop_grace_s)
        except subprocess.TimeoutExpired:
            self.kill()
            raise LaunchError(f"{self.name} did not stop on SIGTERM:\n{self.output()}") from None

    def __enter__(self) -> ChildProcess:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _started(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            raise LaunchError(f"{self.name} was never started")
        return self._process
