"""Apache Kafka for local runs: one KRaft node (broker and controller) on 127.0.0.1.

The jars come from Maven Central through `mvn` (see `maven/kafka.pom.xml`) and are copied once
under the cache directory; the configuration, data, logs and pid file live in `.run/kafka/`.

With FURROW_KAFKA_SASL_SSL_PORT set, the broker also listens there with SASL_SSL, as managed
clusters do: a certificate signed by a CA of its own (made at the first start), SCRAM users
made when its storage is formatted (see `secured_listener()`), and ACLs enforced. With
FURROW_KAFKA_SSL_PORT set as well, it listens there with SSL wanting a client certificate signed
by the same CA (`mutual_tls_listener()`).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import secrets
import shutil
import socket
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka.errors import KafkaError

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
from devstack.tls import ClientCertificate, certificates, client_certificate
from devstack.topics import admin_client, create_topics

NAME = "kafka"
VERSION = "3.9.2"
TOPICS = ("raw", "good", "bad", "logs")
SCRAM_USER = "furrow"

_HOST = "127.0.0.1"
_POM = Path(__file__).resolve().parent / "maven" / "kafka.pom.xml"
_JDK17 = Path("/usr/lib/jvm/java-17-openjdk-amd64")
_JAVA_HINT = (
    "install a Java 17+ runtime (Debian/Ubuntu: apt-get install openjdk-17-jre-headless) "
    "or point JAVA_HOME at one"
)
_MVN_HINT = "install Apache Maven (Debian/Ubuntu: apt-get install maven)"
# The machine is shared with Elasticsearch and our own services; Kafka's scripts use 1 GiB too.
_JVM_OPTIONS = (
    "-Xms512m",
    "-Xmx1g",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)
_START_TIMEOUT = 90.0
_STOP_TIMEOUT = 30.0
_PROBE_TIMEOUT = 3.0
_TOPICS_TIMEOUT = 30.0

_SERVER_PROPERTIES = """\
# Written by devstack/kafka.py on every start; edits here are lost.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@{host}:{controller_port}
listeners=PLAINTEXT://{host}:{port},CONTROLLER://{host}:{controller_port}
advertised.listeners=PLAINTEXT://{host}:{port}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs={data}
num.partitions=2
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
# One partition instead of 50: created on the first consumer group or transaction, so tests
# do not wait for 50 partitions to come up on a single node.
offsets.topic.num.partitions=1
transaction.state.log.num.partitions=1
"""

_SASL_SSL_PROPERTIES = """\
sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=\\
  org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=\\
  org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.ssl.keystore.type=PEM
listener.name.sasl_ssl.ssl.keystore.location={keystore}
# ACLs are enforced as on a managed cluster. Super users (`super.users`, added after): the
# plaintext listener's clients (ANONYMOUS: the controller and the repo's own tools), the SCRAM
# user made at format and the mutual-TLS client; any other user may do only what its ACLs allow.
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
"""

_MUTUAL_TLS_PROPERTIES = """\
listener.name.ssl.ssl.client.auth=required
listener.name.ssl.ssl.keystore.type=PEM
listener.name.ssl.ssl.keystore.location={keystore}
listener.name.ssl.ssl.truststore.type=PEM
listener.name.ssl.ssl.truststore.location={truststore}
"""

# Everything to a rotated server.log; warnings also to stdout, which start_background sends to
# output.log, the log quoted when start-up fails.
_LOG4J_PROPERTIES = """\
log4j.rootLogger=INFO, file, console
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File={logs}/server.log
log4j.appender.file.MaxFileSize=50MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.Threshold=WARN
log4j.appender.console.layout=org.apache.log4j.PatternLayout
log4j.appender.console.layout.ConversionPattern=[%d] %p %m (%c)%n
"""


def address() -> str:
    """The broker's bootstrap address, `127.0.0.1:9092` unless FURROW_KAFKA_PORT says otherwise."""
    return f"{_HOST}:{_port()}"


@dataclass(frozen=True)
class SecuredListener:
    """Where and how a client reaches the SASL_SSL listener: SCRAM-SHA-256 or -512 as
    `username`, with the password in `password_file`, trusting the CA in `ca_file`."""

    bootstrap_servers: str
    username: str
    password_file: Path
    ca_file: Path


def secured_listener() -> SecuredListener | None:
    """The SASL_SSL listener of the broker started with FURROW_KAFKA_SASL_SSL_PORT set."""
    port = os.environ.get("FURROW_KAFKA_SASL_SSL_PORT")
    if not port:
        return None
    home = run_dir() / NAME
    return SecuredListener(
        f"{_HOST}:{port}",
        SCRAM_USER,
        home / "scram-password",
        certificates(home / "tls").ca_file,
    )


def fetch() -> Path:
    """The directory holding every jar Kafka runs with (its classpath).

    The first call resolves them with `mvn` (Maven's local repository is the download cache) and
    copies them under the cache directory; later calls return at once until the pom changes.
    """
    libs = cache_dir() / f"kafka-{VERSION}" / "libs"
    digest = hashlib.sha256(_POM.read_bytes()).hexdigest()
    if _fetched(libs, digest):
        return libs
    mvn = require_command("mvn", _MVN_HINT)
    environment = {**os.environ, "JAVA_HOME": str(java_home())}
    libs.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="libs-", dir=libs.parent))
    try:
        run_tool(
            [
                mvn,
                "-q",
                "-B",
                "-Dstyle.color=never",
                "-f",
                str(_POM),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={staging}",
            ],
            failure=f"mvn could not fetch Kafka {VERSION}",
            env=environment,
        )
        (staging / ".pom-sha256").write_text(digest)
        shutil.rmtree(libs, ignore_errors=True)
        try:
            staging.rename(libs)
        except OSError:
            # Another process finished the same fetch first; its copy is as good as ours.
            if not _fetched(libs, digest):
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return libs


def is_ready() -> bool:
    """True when the broker at address() answers a metadata request that lists a broker.

    Returns False within about 3 s when nothing listens or the broker is still starting.
    """
    try:
        # Aiokafka logs an error for every refused bootstrap; the usual "not up yet" is
        # answered here without it.
        with socket.create_connection((_HOST, _port()), timeout=1.0):
            pass
    except OSError:
        return False
    try:
        return asyncio.run(asyncio.wait_for(_broker_count(), _PROBE_TIMEOUT)) > 0
    except (KafkaError, OSError, TimeoutError):
        return False


def start(*, partitions: int | None = None) -> bool:
    """Make Kafka answer at address() with every one of TOPICS present.

    Unless a broker already answers there, fetches the jars, formats the storage on the very first
    start and starts the broker (or waits for one of ours that is still starting). Either way it
    then creates the missing TOPICS with `partitions` partitions each (default: the environment's
    FURROW_KAFKA_PARTITIONS, else 2). Returns True if it started the broker. Raises StackError,
    quoting Kafka's output, when the broker exits or is not ready in 90 s.
    """
    started = not is_ready()
    if started:
        home = run_dir() / NAME
        if read_pid(NAME) is None:
            _launch(home)
        wait_until(
            is_ready,
            what=f"Kafka at {address()}",
            timeout=_START_TIMEOUT,
            log=home / "output.log",
            pid_name=NAME,
        )
    ensure_topics(partitions or int(os.environ.get("FURROW_KAFKA_PARTITIONS", "2")))
    return started


def stop() -> bool:
    """Stop the broker that start() launched: SIGTERM, then SIGKILL after 30 s.

    Returns True if it was running. Its data stays for the next start.
    """
    return stop_process(NAME, timeout=_STOP_TIMEOUT)


def ensure_topics(partitions: int) -> None:
    """Create each of TOPICS the broker lacks, with `partitions` partitions and one replica, and
    wait until every one of TOPICS has a leader for each partition. Existing topics are left as
    they are, whatever their partition count. Raises StackError if that fails within 30 s."""
    try:
        asyncio.run(asyncio.wait_for(_ensure_topics(partitions), _TOPICS_TIMEOUT))
    except (KafkaError, OSError, TimeoutError) as error:
        raise StackError(f"could not create Kafka topics at {address()}: {error!r}") from error


def _port() -> int:
    return int(os.environ.get("FURROW_KAFKA_PORT", "9092"))


def java_home() -> Path:
    """JAVA_HOME if set, else Debian's OpenJDK 17, else the JDK of the `java` on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home:
        found = Path(home)
    elif _JDK17.is_dir():
        found = _JDK17
    else:
        found = Path(os.path.realpath(require_command("java", _JAVA_HINT))).parent.parent
    if not (found / "bin" / "java").is_file():
        raise StackError(f"no bin/java under {found}: {_JAVA_HINT}")
    return found


def _fetched(libs: Path, digest: str) -> bool:
    stamp = libs / ".pom-sha256"
    return stamp.is_file() and stamp.read_text() == digest


@dataclass(frozen=True)
class MutualTlsListener:
    """Where a client reaches the SSL listener that wants a client certificate, and the one it
    trusts (a super user), both signed by the CA in `ca_file`."""

    bootstrap_servers: str
    ca_file: Path
    client: ClientCertificate


def mutual_tls_listener() -> MutualTlsListener | None:
    """The SSL listener of the broker started with FURROW_KAFKA_SSL_PORT set (as well as
    FURROW_KAFKA_SASL_SSL_PORT)."""
    port = os.environ.get("FURROW_KAFKA_SSL_PORT")
    if not port or not os.environ.get("FURROW_KAFKA_SASL_SSL_PORT"):
        return None
    tls = run_dir() / NAME / "tls"
    return MutualTlsListener(
        f"{_HOST}:{port}", certificates(tls).ca_file, client_certificate(tls, "furrow-client")
    )


def _launch(home: Path) -> None:
    libs = fetch()
    java = str(java_home() / "bin" / "java")
    logs = home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    server_properties = home / "server.properties"
    properties = _SERVER_PROPERTIES.format(
        host=_HOST,
        port=_port(),
        # Follows the broker port so that a second stack on another port does not collide.
        controller_port=_port() + 1,
        data=home / "data",
    )
    secured = secured_listener()
    if secured is not None:
        properties = _with_secured_listeners(properties, secured, home)
    server_properties.write_text(properties)
    log4j_properties = home / "log4j.properties"
    log4j_properties.write_text(_LOG4J_PROPERTIES.format(logs=logs))
    runtime = [f"-Dlog4j.configuration=file:{log4j_properties}", "-cp", f"{libs}/*"]
    _format_storage(home, [java, *runtime], server_properties, secured)
    start_background(NAME, [java, *_JVM_OPTIONS, *runtime, "kafka.Kafka", str(server_properties)])


def _with_secured_listeners(properties: str, secured: SecuredListener, home: Path) -> str:
    """`properties` with the SASL_SSL listener added, and the mutual-TLS one if asked for."""
    authority = certificates(home / "tls")
    listeners = {"SASL_SSL": secured.bootstrap_servers}
    super_users = [f"User:{SCRAM_USER}"]
    extra = _SASL_SSL_PROPERTIES.format(keystore=authority.key_and_cert_file)
    if (mutual := mutual_tls_listener()) is not None:
        listeners["SSL"] = mutual.bootstrap_servers
        super_users.append(mutual.client.principal)
        extra += _MUTUAL_TLS_PROPERTIES.format(
            keystore=authority.key_and_cert_file, truststore=authority.ca_file
        )
    addresses = ",".join(f"{name}://{where}" for name, where in listeners.items())
    added = {
        "listeners": addresses,
        "advertised.listeners": addresses,
        "listener.security.protocol.map": ",".join(f"{name}:{name}" for name in listeners),
    }
    lines = [
        f"{line},{added[name]}" if (name := line.partition("=")[0]) in added else line
        for line in properties.splitlines()
    ]
    lines.append(extra + f"super.users=User:ANONYMOUS;{';'.join(super_users)}")
    return "\n".join(lines) + "\n"


def _format_storage(
    home: Path, java: list[str], server_properties: Path, secured: SecuredListener | None
) -> None:
    """Format the KRaft log directory once; later starts reuse it (and its topics, and the
    SCRAM users made when a secured listener was asked for at the first start)."""
    if (home / "data" / "meta.properties").is_file():
        if secured is not None and not secured.password_file.is_file():
            raise StackError(
                f"Kafka's storage in {home / 'data'} was formatted without SCRAM users; "
                "delete that directory to start with a SASL_SSL listener"
            )
        return
    users: list[str] = []
    if secured is not None:
        if not secured.password_file.is_file():
            secured.password_file.write_text(secrets.token_urlsafe(24) + "\n")
            secured.password_file.chmod(0o600)
        password = secured.password_file.read_text().strip()
        for mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-512"):
            users += ["--add-scram", f"{mechanism}=[name={secured.username},password={password}]"]
    cluster_id_file = home / "cluster-id"
    if not cluster_id_file.is_file():
        cluster_id_file.write_text(_new_cluster_id() + "\n")
    run_tool(
        [
            *java,
            "kafka.tools.StorageTool",
            "format",
            "--cluster-id",
            cluster_id_file.read_text().strip(),
            "--config",
            str(server_properties),
            "--ignore-formatted",
            *users,
        ],
        failure=f"formatting Kafka storage in {home / 'data'} failed",
    )


def _new_cluster_id() -> str:
    # As Kafka's Uuid.randomUuid(): 16 random bytes in URL-safe base64 without padding, never
    # starting with "-", which the storage tool's argument parser would take for an option.
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


async def _broker_count() -> int:
    async with admin_client(address(), request_timeout_ms=int(_PROBE_TIMEOUT * 1000)) as admin:
        cluster = await admin.describe_cluster()
    return len(cluster["brokers"])


async def _ensure_topics(partitions: int) -> None:
    await create_topics(address(), TOPICS, partitions=partitions)
    async with admin_client(address()) as admin:
        # Creation is acknowledged by the controller before the broker can serve the topic.
        while True:
            if _all_led(await admin.describe_topics(list(TOPICS))):
                return
            await asyncio.sleep(0.1)


def _all_led(topics: list[Any]) -> bool:
    return len(topics) == len(TOPICS) and all(
        topic["error_code"] == 0
        and all(
            partition["error_code"] == 0 and partition["leader"] >= 0
            for partition in topic["partitions"]
        )
        for topic in topics
    )
