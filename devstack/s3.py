"""An S3-compatible server for local runs and tests: s3proxy with its filesystem backend.

The jar (s3proxy's own build with its dependencies, `org.gaul:s3proxy:<VERSION>` classifier
`jar-with-dependencies`) comes from Maven Central through `mvn` and is copied once under the cache
directory; its configuration, objects, logs and pid file live in `.run/s3/`. The access key is
`furrow`; the secret key is made at the first start and kept in `.run/s3/secret-access-key`.
The bucket BUCKET is made at every start if missing.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from devstack.kafka import java_home
from devstack.process import (
    StackError,
    cache_dir,
    read_pid,
    require_command,
    run_dir,
    run_tool,
    start_background,
    stop_process,
    wait_until,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

NAME = "s3"
VERSION = "2.6.0"
ACCESS_KEY_ID = "furrow"
BUCKET = "furrow-archive"

_HOST = "127.0.0.1"
_ARTIFACT = f"org.gaul:s3proxy:{VERSION}:jar:jar-with-dependencies"
_MVN_HINT = "install Apache Maven (Debian/Ubuntu: apt-get install maven)"
_JVM_OPTIONS = ("-Xms64m", "-Xmx256m", "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true")
_START_TIMEOUT = 60.0
_STOP_TIMEOUT = 20.0

_PROPERTIES = """\
# Written by devstack/s3.py on every start; edits here are lost.
s3proxy.endpoint=http://{host}:{port}
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity={identity}
s3proxy.credential={credential}
jclouds.provider=filesystem
jclouds.filesystem.basedir={objects}
"""


@dataclass(frozen=True)
class S3Server:
    """How a client reaches the server."""

    endpoint_url: str
    access_key_id: str
    secret_access_key_file: Path
    bucket: str

    def secret_access_key(self) -> str:
        return self.secret_access_key_file.read_text().strip()


def address() -> str:
    """The endpoint URL, `http://127.0.0.1:9000` unless FURROW_S3_PORT says otherwise."""
    return f"http://{_HOST}:{_port()}"


def server() -> S3Server:
    return S3Server(address(), ACCESS_KEY_ID, _secret_file(), BUCKET)


def fetch() -> Path:
    """The s3proxy jar, fetched with `mvn` on the first call."""
    jar = cache_dir() / f"s3proxy-{VERSION}" / f"s3proxy-{VERSION}.jar"
    if jar.is_file():
        return jar
    mvn = require_command("mvn", _MVN_HINT)
    jar.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="s3proxy-", dir=jar.parent))
    try:
        run_tool(
            [
                mvn,
                "-q",
                "-B",
                "-Dstyle.color=never",
                "dependency:copy",
                f"-Dartifact={_ARTIFACT}",
                f"-DoutputDirectory={staging}",
            ],
            failure=f"mvn could not fetch s3proxy {VERSION}",
            env={**os.environ, "JAVA_HOME": str(java_home())},
        )
        (fetched,) = staging.glob("*.jar")
        # A rename: another process fetching at the same time finds a whole jar or none.
        fetched.rename(jar)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return jar


def is_ready() -> bool:
    """True when the server answers a request for BUCKET (signed with our keys)."""
    try:
        client().head_bucket(Bucket=BUCKET)
    except ClientError as error:
        # Up, with the bucket not made yet.
        return error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404
    except (BotoCoreError, OSError):
        return False
    return True


def start() -> bool:
    """Make the server answer at address() with BUCKET present; True if it was started now.
    Raises StackError, quoting its output, when it exits or is not ready in 60 s."""
    started = not is_ready()
    if started:
        home = run_dir() / NAME
        if read_pid(NAME) is None:
            _launch(home)
        wait_until(
            is_ready,
            what=f"s3proxy at {address()}",
            timeout=_START_TIMEOUT,
            log=home / "output.log",
            pid_name=NAME,
        )
    try:
        client().create_bucket(Bucket=BUCKET)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise StackError(f"s3proxy did not make bucket {BUCKET}: {error}") from error
    return started


def stop() -> bool:
    """Stop the server start() launched; its objects stay for the next start."""
    return stop_process(NAME, timeout=_STOP_TIMEOUT)


def _port() -> int:
    return int(os.environ.get("FURROW_S3_PORT", "9000"))


def _secret_file() -> Path:
    return run_dir() / NAME / "secret-access-key"


def client() -> S3Client:
    """A client of the server, signed with its keys."""
    secret = _secret_file()
    return boto3.client(
        "s3",
        endpoint_url=address(),
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=secret.read_text().strip() if secret.is_file() else "none",
        config=BotoConfig(
            s3={"addressing_style": "path"},
            # s3proxy refuses the trailing checksums boto3 sends by default.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            retries={"max_attempts": 1},
            connect_timeout=1,
            read_timeout=10,
        ),
    )


def _launch(home: Path) -> None:
    jar = fetch()
    objects = home / "objects"
    objects.mkdir(parents=True, exist_ok=True)
    secret = _secret_file()
    if not secret.is_file():
        secret.write_text(secrets.token_urlsafe(24) + "\n")
        secret.chmod(0o600)
    properties = home / "s3proxy.properties"
    properties.write_text(
        _PROPERTIES.format(
            host=_HOST,
            port=_port(),
            identity=ACCESS_KEY_ID,
            credential=secret.read_text().strip(),
            objects=objects,
        )
    )
    properties.chmod(0o600)
    java = str(java_home() / "bin" / "java")
    start_background(NAME, [java, *_JVM_OPTIONS, "-jar", str(jar), "--properties", str(properties)])
