"""Background processes with pid files, and readiness waits, shared by every server we run."""

from __future__ import annotations

import contextlib
import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


class StackError(RuntimeError):
    """A server could not be fetched, started or stopped; the message says what to do."""


def run_dir() -> Path:
    """The git-ignored directory holding every server's data, logs and pid file."""
    path = Path(os.environ.get("FURROW_RUN_DIR", REPO_ROOT / ".run"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """Downloads and unpacked distributions shared by every clone on this machine."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "furrow"
    path = Path(os.environ.get("FURROW_CACHE_DIR", default))
    path.mkdir(parents=True, exist_ok=True)
    return path


def require_command(name: str, hint: str) -> str:
    """The path of an executable on PATH, or a StackError that says how to install it."""
    found = shutil.which(name)
    if found is None:
        raise StackError(f"{name} is not installed: {hint}")
    return found


def as_user(user: pwd.struct_passwd) -> list[str]:
    """The argv prefix that runs a command as `user` (for servers that refuse root)."""
    # setpriv execs in place (runuser forks), so the recorded pid is the server's process group.
    return [
        require_command("setpriv", "apt-get install util-linux"),
        f"--reuid={user.pw_uid}",
        f"--regid={user.pw_gid}",
        "--clear-groups",
        "--",
    ]


def pid_file(name: str) -> Path:
    return run_dir() / name / "pid"


def read_pid(name: str) -> int | None:
    """The pid recorded for `name` if that process is still alive."""
    path = pid_file(name)
    try:
        pid = int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if is_alive(pid) else None


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours still answers kill(0); it is not running.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def start_background(
    name: str,
    argv: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> int:
    """Start `argv` detached in its own session, its output to `.run/<name>/output.log`.

    Returns the pid, also recorded in the pid file."""
    directory = run_dir() / name
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "output.log", "ab") as output:
        process = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
    pid_file(name).write_text(f"{process.pid}\n")
    return process.pid


def stop_process(name: str, *, timeout: float = 30.0) -> bool:
    """SIGTERM the process group recorded for `name`, SIGKILL it after `timeout`.

    Returns True if a process was running."""
    pid = read_pid(name)
    if pid is None:
        pid_file(name).unlink(missing_ok=True)
        return False
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while is_alive(pid) and time.monotonic() < deadline:
        _reap(pid)
        time.sleep(0.2)
    if is_alive(pid):
        _signal_group(pid, signal.SIGKILL)
        while is_alive(pid):
            _reap(pid)
            time.sleep(0.1)
    pid_file(name).unlink(missing_ok=True)
    return True


def _signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except ProcessLookupError:
        pass
    except PermissionError:
        os.kill(pid, signum)


def _reap(pid: int) -> None:
    # Processes started by this very interpreter become zombies until waited for.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def run_tool(
    argv: Sequence[str],
    *,
    failure: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> None:
    """Run a short-lived tool to completion; if it fails, raise StackError(`failure` + output)."""
    result = subprocess.run(
        list(argv),
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        output = tail(result.stdout + result.stderr)
        raise StackError(f"{failure} (exit {result.returncode}):\n{output}")


def apt_install(package: str) -> None:
    """Install a Debian package (as root), refreshing the package lists if the first try fails."""
    if os.geteuid() != 0:
        raise StackError(f"{package} is not installed: run `apt-get install {package}` as root")
    apt_get = require_command("apt-get", f"{package} comes from Debian's packages")
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [apt_get, "install", "-y", "--no-install-recommends", package]
    if subprocess.run(install, env=environment, capture_output=True, check=False).returncode:
        # A fresh machine has no package lists yet.
        run_tool([apt_get, "update"], failure="apt-get update failed", env=environment)
        run_tool(install, failure=f"apt-get install {package} failed", env=environment)


def tail(text: str, lines: int = 20) -> str:
    """The last `lines` lines of `text`."""
    return "\n".join(text.strip().splitlines()[-lines:])


def wait_until(
    ready: Callable[[], bool],
    *,
    what: str,
    timeout: float,
    log: Path | None = None,
    pid_name: str | None = None,
) -> None:
    """Poll `ready` until it is true; raise a StackError naming `what` (and its log) on timeout
    or as soon as the process recorded under `pid_name` has died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        if pid_name is not None and read_pid(pid_name) is None:
            raise StackError(f"{what} exited during start-up{_log_hint(log)}")
        time.sleep(0.5)
    raise StackError(f"{what} not ready after {timeout:.0f} s{_log_hint(log)}")


def _log_hint(log: Path | None) -> str:
    if log is None or not log.exists():
        return ""
    return f"; see {log}:\n" + tail(log.read_text(errors="replace"))


# Ports are picked below the range Linux gives outgoing connections (32768-60999 by default): a
# port from inside it can be taken by some client's connection in the seconds between picking
# it and a server binding it.
PICKED_PORTS = range(20000, 32768)


def unused_port() -> int:
    """A port free now, picked at random, not the next of a fixed range: other runs on the
    machine would take those in the same order, and a health check could be answered by their
    process instead of ours."""
    return free_ports(1)[0]


def free_ports(count: int, *, consecutive: bool = False) -> list[int]:
    """`count` distinct ports free now; `consecutive` for a broker and its controller."""
    while True:
        if consecutive:
            first = random.randrange(PICKED_PORTS.start, PICKED_PORTS.stop - count)
            ports = list(range(first, first + count))
        else:
            ports = random.sample(PICKED_PORTS, count)
        if all(_bindable(port) for port in ports):
            return ports


def _bindable(port: int) -> bool:
    """Nothing listens on `port` and no connection holds it."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
