"""A single-node Elasticsearch on loopback, fetched from Maven Central and run as a non-root user.

Everything the node owns (unpacked distribution, config, data, logs, pid) lives in
`run_dir()/elasticsearch`. Elasticsearch refuses to run as root, so under root it runs as the
system user `furrow`; when that user cannot reach the run directory (a clone under `/root`),
`run_dir()/elasticsearch` is a symlink into `/var/lib/furrow/<hash of the run dir>/`.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import urllib.request
import zipfile
from pathlib import Path

from devstack.process import (
    StackError,
    as_user,
    read_pid,
    require_command,
    run_dir,
    run_tool,
    start_background,
    stop_process,
    wait_until,
)

NAME = "elasticsearch"
VERSION = "8.19.21"

_ARTIFACT = f"org.elasticsearch.distribution.integ-test-zip:elasticsearch:{VERSION}:zip"
_USER = "furrow"
_FALLBACK_ROOT = Path("/var/lib/furrow")
_JVM_DIR = Path("/usr/lib/jvm")
_START_TIMEOUT = 120.0


def address() -> str:
    """The HTTP base URL of the node (port from FURROW_ES_PORT, default 9200)."""
    return f"http://127.0.0.1:{_port()}"


def fetch() -> Path:
    """The unpacked distribution's home, fetched with mvn on first use (~/.m2 is the cache)."""
    base = _base_dir()
    home = base / f"elasticsearch-{VERSION}"
    if (home / "bin" / "elasticsearch").exists():
        return home
    mvn = require_command("mvn", "apt-get install maven")
    with tempfile.TemporaryDirectory(dir=base) as tmp_name:
        tmp = Path(tmp_name)
        # Run from the empty temporary directory so a pom.xml in the caller's cwd is not picked up.
        run_tool(
            [
                mvn,
                "-q",
                "-B",
                "dependency:copy",
                f"-Dartifact={_ARTIFACT}",
                f"-DoutputDirectory={tmp}",
            ],
            failure=f"mvn could not fetch {_ARTIFACT}",
            cwd=tmp,
        )
        archive = tmp / f"elasticsearch-{VERSION}.zip"
        _unzip(archive, tmp)
        (tmp / f"elasticsearch-{VERSION}").rename(home)
    return home


def is_ready() -> bool:
    """True when the node answers cluster health yellow or green within about 2 s."""
    try:
        with urllib.request.urlopen(f"{address()}/_cluster/health", timeout=2) as response:
            health = json.load(response)
    except (OSError, ValueError):
        return False
    return isinstance(health, dict) and health.get("status") in ("yellow", "green")


def start() -> bool:
    """Make the node ready (health yellow or green): False at once if it already was, else True.

    Fetches and configures on first use; a node still starting from an earlier call is waited
    for rather than started twice. Raises StackError with the log tail if the node dies or is
    not ready within 120 s.
    """
    if is_ready():
        return False
    log = run_dir() / NAME / "output.log"
    if read_pid(NAME) is None:
        home = fetch()
        java_home = _java_home()
        user = _service_user()
        env = _configure(home, java_home, user)
        argv = [str(home / "bin" / "elasticsearch")]
        if user is not None:
            argv = [*as_user(user), *argv]
        start_background(NAME, argv, env=env, cwd=home)
    wait_until(is_ready, what="Elasticsearch", timeout=_START_TIMEOUT, log=log, pid_name=NAME)
    return True


def stop() -> bool:
    """Stop the node and every process it started; True if it was running."""
    return stop_process(NAME)


def _port() -> int:
    return int(os.environ.get("FURROW_ES_PORT", "9200"))


def _service_user() -> pwd.struct_passwd | None:
    """The system user to run as when we are root (created once), else None: run as ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(_USER)
    except KeyError:
        pass
    useradd = require_command("useradd", "apt-get install passwd")
    result = subprocess.run(
        [
            useradd,
            "--system",
            "--user-group",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            _USER,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        # Look up again rather than trust the exit code: a concurrent start may have created it.
        return pwd.getpwnam(_USER)
    except KeyError:
        raise StackError(f"could not create system user {_USER}: {result.stderr.strip()}") from None


def _base_dir() -> Path:
    """`run_dir()/elasticsearch`, or where its symlink points when the service user needs that."""
    link = run_dir() / NAME
    if link.is_symlink():
        target = link.resolve()
        target.mkdir(mode=0o755, parents=True, exist_ok=True)
        return target
    user = _service_user()
    if user is None or _can_enter(user, run_dir()):
        link.mkdir(exist_ok=True)
        link.chmod(0o755)
        return link
    digest = hashlib.sha256(str(run_dir().resolve()).encode()).hexdigest()[:12]
    target = _FALLBACK_ROOT / digest / NAME
    target.mkdir(parents=True, exist_ok=True)
    for directory in (_FALLBACK_ROOT, target.parent, target):
        directory.chmod(0o755)
    if link.exists():
        try:
            link.rmdir()
        except OSError:
            raise StackError(
                f"user {user.pw_name} cannot reach {link}; move its contents to {target} "
                f"and replace it with a symlink to {target}"
            ) from None
    link.symlink_to(target)
    return target


def _can_enter(user: pwd.struct_passwd, directory: Path) -> bool:
    check = [*as_user(user), "test", "-x", str(directory)]
    return subprocess.run(check, capture_output=True, check=False).returncode == 0


def _unzip(archive: Path, into: Path) -> None:
    # zipfile drops Unix permissions; the launch scripts need their executable bits back.
    with zipfile.ZipFile(archive) as bundle:
        for member in bundle.infolist():
            path = Path(bundle.extract(member, into))
            mode = stat.S_IMODE(member.external_attr >> 16)
            if mode:
                path.chmod(mode)


def _java_home() -> Path:
    """A JDK Elasticsearch 8.19 supports (17 or 21+): ES_JAVA_HOME if set, else 17 first."""
    configured = os.environ.get("ES_JAVA_HOME")
    if configured:
        return Path(configured)
    candidates: list[tuple[int, Path]] = []
    for release in sorted(_JVM_DIR.glob("*/release")):
        major = _java_major(release)
        if major == 17 or (major is not None and major >= 21):
            candidates.append((0 if major == 17 else major, release.parent))
    if not candidates:
        raise StackError(
            f"no JDK 17 or 21+ under {_JVM_DIR}: apt-get install openjdk-17-jdk-headless, "
            "or point ES_JAVA_HOME at one"
        )
    return min(candidates)[1]


def _java_major(release: Path) -> int | None:
    for line in release.read_text(errors="replace").splitlines():
        key, _, value = line.partition("=")
        if key == "JAVA_VERSION":
            version = value.strip('"')
            major = version.split(".")[0]
            return int(major) if major.isdigit() else None
    return None


def _configure(home: Path, java_home: Path, user: pwd.struct_passwd | None) -> dict[str, str]:
    """Write config into the run directory and return the environment to launch with."""
    base = home.parent
    config, data, logs, tmp = (base / "config", base / "data", base / "logs", base / "tmp")
    shutil.copytree(home / "config", config, dirs_exist_ok=True)
    for directory in (data, logs, tmp):
        directory.mkdir(exist_ok=True)
    (config / "elasticsearch.yml").write_text(
        "cluster.name: furrow\n"
        "node.name: furrow-1\n"
        "discovery.type: single-node\n"
        "network.host: 127.0.0.1\n"
        f"http.port: {_port()}\n"
        "transport.port: 9300-9399\n"
        f"path.data: {data}\n"
        f"path.logs: {logs}\n"
        # A nearly full CI disk would otherwise turn every index read-only.
        "cluster.routing.allocation.disk.threshold_enabled: false\n"
        # The distribution ships x-pack security; local development needs plain HTTP, no users.
        "xpack.security.enabled: false\n"
    )
    options = config / "jvm.options.d"
    options.mkdir(exist_ok=True)
    (options / "furrow.options").write_text(
        # Shares two cores and 24 GiB with Kafka and the services.
        "-Xms1g\n-Xmx1g\n"
    )
    if user is not None:
        # The node creates its keystore in config; what it writes below the others is its own.
        _chown_tree(config, user)
        for directory in (data, logs, tmp):
            os.chown(directory, user.pw_uid, user.pw_gid)
    env = {
        **os.environ,
        "ES_JAVA_HOME": str(java_home),
        "ES_PATH_CONF": str(config),
        "ES_TMPDIR": str(tmp),
        # The service user cannot read root's home.
        "HOME": str(tmp),
    }
    # The launcher only warns that it ignores JAVA_HOME in favour of ES_JAVA_HOME.
    env.pop("JAVA_HOME", None)
    return env


def _chown_tree(top: Path, user: pwd.struct_passwd) -> None:
    os.chown(top, user.pw_uid, user.pw_gid)
    for parent, directories, files in os.walk(top):
        for name in (*directories, *files):
            os.chown(Path(parent) / name, user.pw_uid, user.pw_gid)
