"""Load generation with wrk (many concurrent keep-alive connections), and process sampling."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


@dataclass(frozen=True)
class LoadResult:
    requests_per_s: float
    latency_ms: dict[str, float]  # "50%" -> ms, also "75%", "90%", "99%"
    errors: int  # non-2xx/3xx answers plus socket errors


def require_wrk() -> str:
    """The wrk binary, installed from Debian's packages when missing and we are root."""
    if found := shutil.which("wrk"):
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
        if found := shutil.which("wrk"):
            return found
    raise RuntimeError("wrk is needed for the benchmark: apt-get install wrk")


def run_wrk(
    url: str,
    *,
    seconds: int,
    connections: int,
    body: bytes | None = None,
    content_type: str = "application/json",
) -> LoadResult:
    """Load `url` for `seconds` with `connections` keep-alive connections (POST `body` if given)."""
    command = [require_wrk(), "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    with tempfile.TemporaryDirectory() as scratch:
        if body is not None:
            script = Path(scratch) / "post.lua"
            body_literal = body.decode().replace("\\", "\\\\").replace('"', '\\"')
            script.write_text(
                'wrk.method = "POST"\n'
                f'wrk.headers["Content-Type"] = "{content_type}"\n'
                f'wrk.body = "{body_literal}"\n'
            )
            command += ["-s", str(script)]
        output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    return parse_wrk(output)


def parse_wrk(output: str) -> LoadResult:
    """Requests/s, latency percentiles and error count from wrk's --latency report."""
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if rate is None:
        raise RuntimeError(f"wrk printed no rate:\n{output}")
    latency = {
        percent: float(value) * _UNITS[unit]
        for percent, value, unit in re.findall(r"^\s+(\d+%)\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
    }
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", output))
    if socket_errors := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    ):
        errors += sum(int(n) for n in socket_errors.groups())
    return LoadResult(float(rate.group(1)), latency, errors)


class PeakRss:
    """Samples a process's resident memory in the background; `peak_mb` is the highest seen."""

    def __init__(self, pid: int, interval_s: float = 0.2) -> None:
        self._status = Path(f"/proc/{pid}/status")
        self._interval_s = interval_s
        self._stop = threading.Event()
        self.peak_mb = 0.0
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                text = self._status.read_text()
            except FileNotFoundError:
                return
            if found := re.search(r"VmRSS:\s+(\d+) kB", text):
                self.peak_mb = max(self.peak_mb, int(found.group(1)) / 1024)
            time.sleep(self._interval_s)
