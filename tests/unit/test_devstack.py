"""The process plumbing `make run` and `make stop` rely on, with harmless stand-in processes."""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

import pytest

from devstack import furrow
from devstack.process import (
    PICKED_PORTS,
    StackError,
    free_ports,
    read_pid,
    start_background,
    stop_process,
    wait_until,
)


@pytest.fixture(autouse=True)
def run_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FURROW_RUN_DIR", str(tmp_path))
    monkeypatch.delenv(furrow.SUPER_KEY_VARIABLE, raising=False)
    return tmp_path


def test_a_started_process_is_recorded_and_stopped_with_its_children(run_dir: Path) -> None:
    # The shell's child `sleep` must die with it: stop signals the whole process group.
    pid = start_background("sleeper", ["sh", "-c", "sleep 60 & echo $! > child; wait"], cwd=run_dir)
    wait_until(lambda: (run_dir / "child").exists(), what="child pid", timeout=5)
    child = int((run_dir / "child").read_text())
    assert read_pid("sleeper") == pid
    assert stop_process("sleeper", timeout=5)
    assert read_pid("sleeper") is None
    # The child was signalled with its group; on a busy machine it may take a moment to die.
    wait_until(lambda: _is_gone(child), what=f"child {child} to exit", timeout=5)
    assert not (run_dir / "sleeper" / "pid").exists()


def _is_gone(pid: int) -> bool:
    try:
        return "Z" in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True


def test_stopping_what_never_ran_says_so() -> None:
    assert stop_process("nothing") is False


def test_a_process_ignoring_sigterm_is_killed_after_the_timeout(run_dir: Path) -> None:
    script = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    start_background("stubborn", [sys.executable, "-c", script])
    time.sleep(0.5)
    began = time.monotonic()
    assert stop_process("stubborn", timeout=1)
    assert time.monotonic() - began < 10
    assert read_pid("stubborn") is None


def test_output_goes_to_the_run_directory(run_dir: Path) -> None:
    start_background("talker", ["sh", "-c", "echo hello from talker"])
    wait_until(
        lambda: b"hello" in (run_dir / "talker" / "output.log").read_bytes(),
        what="output",
        timeout=5,
    )


def test_waiting_on_a_process_that_dies_fails_at_once_with_its_log(run_dir: Path) -> None:
    start_background("crasher", ["sh", "-c", "echo 'port already in use' >&2; exit 3"])
    began = time.monotonic()
    with pytest.raises(StackError, match=r"(?s)exited during start-up.*port already in use"):
        wait_until(
            lambda: False,
            what="crasher",
            timeout=30,
            log=run_dir / "crasher" / "output.log",
            pid_name="crasher",
        )
    assert time.monotonic() - began < 10


def test_waiting_times_out_with_a_clear_message() -> None:
    with pytest.raises(StackError, match="never not ready after 1 s"):
        wait_until(lambda: False, what="never", timeout=1)


def test_super_key_is_generated_once_then_reused(run_dir: Path) -> None:
    key, generated = furrow.super_key()
    assert generated
    assert (run_dir / "registry-super-key").read_text().strip() == key
    assert oct((run_dir / "registry-super-key").stat().st_mode & 0o777) == "0o600"
    assert furrow.super_key() == (key, False)


def test_super_key_from_the_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(furrow.SUPER_KEY_VARIABLE, "from-env")
    assert furrow.super_key() == ("from-env", False)


@pytest.mark.parametrize("consecutive", [False, True])
def test_free_ports_are_distinct_bindable_and_below_the_outgoing_connections_range(
    consecutive: bool,
) -> None:
    ports = free_ports(3, consecutive=consecutive)
    assert len(set(ports)) == 3
    assert all(port in PICKED_PORTS and port < 32768 for port in ports)
    if consecutive:
        assert ports == list(range(ports[0], ports[0] + 3))
    with socket.socket() as held:
        held.bind(("127.0.0.1", ports[0]))
        held.listen()
        # A port something holds is never handed out.
        assert ports[0] not in {port for _ in range(200) for port in free_ports(5)}
