"""PostgreSQL for the registry's tests and for local runs that want it instead of SQLite.

Debian's server binaries (`apt-get install postgresql`, done here when missing and we are root)
run one cluster whose data, log and pid file live in `run_dir()/postgres`, listening on
127.0.0.1 only, with trust authentication for the superuser `furrow` and a database `furrow`.
PostgreSQL refuses to run as root, so under root it runs as Debian's `postgres` user; when that
user cannot reach the run directory (a clone under `/root`), the cluster lives in
`/var/lib/furrow/<hash of the run dir>/postgres` instead.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import re
import subprocess
from pathlib import Path

import psycopg

from devstack.process import (
    StackError,
    apt_install,
    as_user,
    read_pid,
    run_dir,
    run_tool,
    start_background,
    stop_process,
    wait_until,
)

NAME = "postgres"
USER = "furrow"
DATABASE = "furrow"

_HOST = "127.0.0.1"
# Not 5432: installing Debian's package starts a cluster of its own there.
_DEFAULT_PORT = 15432
_SERVICE_USER = "postgres"
_DEBIAN_BINARIES = Path("/usr/lib/postgresql")
_FALLBACK_ROOT = Path("/var/lib/furrow")
_START_TIMEOUT = 60.0
_STOP_TIMEOUT = 30.0


def address() -> str:
    """The SQLAlchemy/libpq URL of the `furrow` database (port from FURROW_POSTGRES_PORT)."""
    return f"postgresql://{USER}@{_HOST}:{_port()}/{DATABASE}"


def is_ready() -> bool:
    """True when the `furrow` database accepts a connection within about 2 s."""
    return _answers(DATABASE)


def start() -> bool:
    """Make the `furrow` database answer at address(): False at once if it already does, else
    True after installing the server if needed, creating the cluster on first use and starting
    it. Raises StackError with the server's log if it dies or is not ready within 60 s."""
    if is_ready():
        return False
    home = _home()
    log = run_dir() / NAME / "output.log"
    if read_pid(NAME) is None:
        binaries = _binaries()
        user = _service_user()
        data = home / "data"
        if not (data / "PG_VERSION").exists():
            _init_cluster(binaries, data, user)
        argv = [
            str(binaries / "postgres"),
            "-D",
            str(data),
            "-c",
            f"listen_addresses={_HOST}",
            "-c",
            f"port={_port()}",
            # No Unix socket: its default directory belongs to Debian's own clusters.
            "-c",
            "unix_socket_directories=",
        ]
        start_background(NAME, [*_as(user), *argv], cwd=home)
    wait_until(
        lambda: _answers("postgres"),
        what=f"PostgreSQL at {_HOST}:{_port()}",
        timeout=_START_TIMEOUT,
        log=log,
        pid_name=NAME,
    )
    _create_database()
    return True


def stop() -> bool:
    """Stop the server that start() launched; True if it was running. Its data stays."""
    return stop_process(NAME, timeout=_STOP_TIMEOUT)


def _port() -> int:
    return int(os.environ.get("FURROW_POSTGRES_PORT", str(_DEFAULT_PORT)))


def _answers(database: str) -> bool:
    url = f"postgresql://{USER}@{_HOST}:{_port()}/{database}"
    try:
        with psycopg.connect(url, connect_timeout=2) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True


def _create_database() -> None:
    url = f"postgresql://{USER}@{_HOST}:{_port()}/postgres"
    with psycopg.connect(url, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)
        ).fetchone()
        if exists is None:
            connection.execute(f'CREATE DATABASE "{DATABASE}"')


def _binaries() -> Path:
    """The newest installed server's bin directory; installs Debian's package if none is."""
    found = _installed()
    if found is None:
        apt_install("postgresql")
        found = _installed()
    if found is None:
        raise StackError(f"no PostgreSQL server under {_DEBIAN_BINARIES} after installing it")
    return found


def _installed() -> Path | None:
    versions = [
        (int(path.parent.parent.name), path.parent)
        for path in _DEBIAN_BINARIES.glob("*/bin/postgres")
        if re.fullmatch(r"[0-9]+", path.parent.parent.name)
    ]
    return max(versions)[1] if versions else None


def _service_user() -> pwd.struct_passwd | None:
    """Debian's `postgres` user when we are root, else None: run as ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(_SERVICE_USER)
    except KeyError:
        raise StackError(
            f"user {_SERVICE_USER} is missing; reinstall Debian's postgresql package"
        ) from None


def _as(user: pwd.struct_passwd | None) -> list[str]:
    return [] if user is None else as_user(user)


def _home() -> Path:
    """Where the cluster lives: `run_dir()/postgres` unless the service user cannot reach it."""
    user = _service_user()
    home = run_dir() / NAME
    if user is not None and not _can_enter(user, run_dir()):
        digest = hashlib.sha256(str(run_dir().resolve()).encode()).hexdigest()[:12]
        home = _FALLBACK_ROOT / digest / NAME
        for directory in (_FALLBACK_ROOT, home.parent):
            directory.mkdir(parents=True, exist_ok=True)
            directory.chmod(0o755)
    home.mkdir(parents=True, exist_ok=True)
    if user is not None:
        os.chown(home, user.pw_uid, user.pw_gid)
    return home


def _can_enter(user: pwd.struct_passwd, directory: Path) -> bool:
    check = [*as_user(user), "test", "-x", str(directory)]
    return subprocess.run(check, capture_output=True, check=False).returncode == 0


def _init_cluster(binaries: Path, data: Path, user: pwd.struct_passwd | None) -> None:
    run_tool(
        [
            *_as(user),
            str(binaries / "initdb"),
            "-D",
            str(data),
            f"--username={USER}",
            # Only loopback connections exist (see start); the test clusters need no passwords.
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
        ],
        failure=f"initdb of {data} failed",
        cwd=data.parent,
    )
