"""`furrow up`: every component as a child process, restarted when it dies, stopped together."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from libs.config import LoggingSettings, load_config, section_given
from libs.log import configure_logging

logger = logging.getLogger(__name__)

COMPONENTS: tuple[tuple[str, ...], ...] = (
    ("registry",),
    ("collector",),
    ("enrich",),
    ("sink", "good"),
    ("sink", "bad"),
    ("sink", "logs"),
    ("logs",),
    ("console",),
)
# Started only once a destination is configured: it has nothing to do before.
FORWARD = ("forward",)
ARCHIVE = ("archive",)

FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 30.0
# A child that ran this long before dying is restarted at once, as if it had never failed.
STABLE_AFTER_S = 60.0
STOP_GRACE_S = 30.0


def next_backoff(previous_s: float, ran_for_s: float) -> float:
    """How long to wait before restarting a child that died after `ran_for_s` seconds."""
    if ran_for_s >= STABLE_AFTER_S:
        return 0.0
    return min(max(previous_s * 2, FIRST_BACKOFF_S), MAX_BACKOFF_S)


@dataclass
class Child:
    arguments: tuple[str, ...]
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    backoff_s: float = 0.0
    restart_at: float = 0.0
    restarts: int = field(default=0)

    @property
    def name(self) -> str:
        return " ".join(self.arguments)


def supervise(config_path: Path | None) -> int:
    """Run every component until SIGTERM or SIGINT, then stop them all; return the exit status."""
    configure_logging("supervisor", LoggingSettings())
    stopping = False

    def request_stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    children = [Child(arguments) for arguments in components(config_path)]
    while not stopping:
        now = time.monotonic()
        for child in children:
            if child.process is None:
                if now >= child.restart_at:
                    _start(child, config_path)
            elif (status := child.process.poll()) is not None:
                ran_for = now - child.started_at
                child.backoff_s = next_backoff(child.backoff_s, ran_for)
                child.restart_at = now + child.backoff_s
                child.process = None
                child.restarts += 1
                logger.error(
                    "component exited, restarting",
                    extra={
                        "component": child.name,
                        "status": status,
                        "ran_for_s": round(ran_for, 1),
                        "restart_in_s": child.backoff_s,
                    },
                )
        time.sleep(0.2)
    _stop_all(children)
    return 0


def components(config_path: Path | None) -> list[tuple[str, ...]]:
    """What `furrow up` runs: COMPONENTS; the forwarder if `[forward]` has a destination (raises
    ConfigError when `[forward]` cannot work, so `furrow up` stops at start); the archive sink
    once `[archive]` (or a FURROW_ARCHIVE_* variable) says where to write."""
    from services.forward.config import ForwardConfig

    chosen = list(COMPONENTS)
    if load_config(ForwardConfig, "forward", path=config_path).destinations:
        chosen.append(FORWARD)
    if section_given("archive", path=config_path):
        chosen.append(ARCHIVE)
    return chosen


def _start(child: Child, config_path: Path | None) -> None:
    config = ["--config", str(config_path)] if config_path else []
    command = [sys.executable, "-m", "services.cli", *config, *child.arguments]
    child.process = subprocess.Popen(command, stdin=subprocess.DEVNULL)
    child.started_at = time.monotonic()
    logger.info("component started", extra={"component": child.name, "pid": child.process.pid})


def _stop_all(children: list[Child]) -> None:
    running = [child.process for child in children if child.process is not None]
    for process in running:
        process.terminate()
    deadline = time.monotonic() + STOP_GRACE_S
    for process in running:
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    logger.info("all components stopped")
