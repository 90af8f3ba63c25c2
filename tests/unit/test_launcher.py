"""The launcher tests, benchmarks and drills start their components with, on a stand-in server:
Python's http.server, whose /health is a file of the directory it serves."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import pytest

from devstack.launcher import ChildProcess, LaunchError, answers, clean_environment
from devstack.process import unused_port

IGNORING_SIGTERM = (
    "import runpy, signal; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "runpy.run_module('http.server', run_name='__main__')"
)


def stand_in(tmp_path: Path, *, ignoring_sigterm: bool = False) -> ChildProcess:
    (tmp_path / "health").write_text("ok")
    port = unused_port()
    program = ["-c", IGNORING_SIGTERM] if ignoring_sigterm else ["-m", "http.server"]
    return ChildProcess(
        "stand-in",
        [sys.executable, *program, str(port), "--bind", "127.0.0.1", "--directory", str(tmp_path)],
        clean_environment({}),
        f"http://127.0.0.1:{port}/health",
        tmp_path / "logs" / "stand-in.log",
        start_timeout_s=20,
        stop_grace_s=1,
    )


def test_start_returns_once_healthy_and_stop_gives_the_exit_code(tmp_path: Path) -> None:
    with stand_in(tmp_path) as child:
        assert child.is_running()
        assert answers(child.health_url)
        assert child.memory_bytes(peak=True) >= child.memory_bytes() > 0
    assert not child.is_running()
    assert child.stop() == -signal.SIGTERM
    # Its requests were logged to the log file, whose directory was made for it.
    assert "GET /health" in child.output()


def test_a_command_that_exits_at_start_fails_at_once_quoting_its_log(tmp_path: Path) -> None:
    child = ChildProcess(
        "crasher",
        ["sh", "-c", "echo 'port already in use' >&2; exit 3"],
        clean_environment({}),
        f"http://127.0.0.1:{unused_port()}/health",
        tmp_path / "crasher.log",
    )
    began = time.monotonic()
    with pytest.raises(LaunchError, match=r"(?s)crasher did not come up.*port already in use"):
        child.start()
    assert time.monotonic() - began < 10
    assert child.wait(1) == 3


def test_a_command_never_healthy_is_killed_after_the_start_timeout(tmp_path: Path) -> None:
    child = ChildProcess(
        "sleeper",
        ["sleep", "60"],
        clean_environment({}),
        f"http://127.0.0.1:{unused_port()}/health",
        tmp_path / "sleeper.log",
        start_timeout_s=1,
    )
    with pytest.raises(LaunchError, match="sleeper did not come up"):
        child.start()
    assert not child.is_running()
    assert child.wait(1) == -signal.SIGKILL


def test_a_child_ignoring_sigterm_is_killed_after_the_grace_period(tmp_path: Path) -> None:
    child = stand_in(tmp_path, ignoring_sigterm=True)
    child.start()
    with pytest.raises(LaunchError, match="stand-in did not stop on SIGTERM"):
        child.stop()
    assert not child.is_running()
    assert child.wait(1) == -signal.SIGKILL


def test_a_killed_child_starts_again_as_a_new_process(tmp_path: Path) -> None:
    child = stand_in(tmp_path)
    child.start()
    try:
        first = child.pid
        child.kill()
        assert not child.is_running()
        assert not child.is_healthy()
        child.start()
        assert child.pid != first
        assert child.is_healthy()
        child.restart()
        assert child.is_healthy()
    finally:
        child.stop()


def test_a_child_never_started_has_no_pid_and_nothing_to_stop(tmp_path: Path) -> None:
    child = stand_in(tmp_path)
    assert child.stop() is None
    assert not child.is_running()
    with pytest.raises(LaunchError, match="never started"):
        child.pid  # noqa: B018 - the property raises


def test_a_clean_environment_keeps_no_furrow_variable_but_those_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FURROW_KAFKA_PORT", "9092")
    monkeypatch.setenv("HOME_OF_TEST", "kept")
    environment = clean_environment({"FURROW_TOPICS_RAW": "mine"})
    assert environment["FURROW_TOPICS_RAW"] == "mine"
    assert "FURROW_KAFKA_PORT" not in environment
    assert environment["HOME_OF_TEST"] == "kept"
