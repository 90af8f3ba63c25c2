"""Furrow against a Kafka that wants SASL_SSL (SCRAM users, a CA of its own) and an Elasticsearch
behind TLS that wants an API key or a password: one tracker event through the whole pipeline,
no secret in any log line or answer, and wrong settings stopping a service at start, named."""

from __future__ import annotations

import asyncio
import gzip
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import orjson
import pytest
import uvicorn
from aiokafka import AIOKafkaProducer
from aiokafka.admin import NewTopic
from aiokafka.errors import TopicAuthorizationFailedError
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._acl import AclBinding, AclOperation, AclPermissionType
from confluent_kafka.admin._resource import ResourcePatternType, ResourceType
from confluent_kafka.admin._scram import (
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialAlteration,
    UserScramCredentialUpsertion,
)
from elasticsearch import ApiError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from devstack import elasticsearch_tls, kafka
from devstack.elasticsearch_tls import SecuredElasticsearch
from devstack.environment import environment
from devstack.kafka import MutualTlsListener, SecuredListener
from devstack.process import REPO_ROOT, free_ports
from devstack.tls import certificates
from libs.config import ElasticsearchSettings, KafkaSettings
from libs.elastic import elasticsearch_client
from libs.kafka_security import admin_client, aiokafka_options
from tests.enriched_events import enriched_lines
from tests.integration.processes import Names, Service, health_port, start_service

T = TypeVar("T")

# How long a service may take to stop on settings the servers refuse: no retry loop before.
FAILS_WITHIN_S = 45.0


@dataclass(frozen=True)
class Secured:
    kafka: SecuredListener
    # The same broker's listener without TLS or SASL, for the cases that need one.
    kafka_plaintext: str
    elasticsearch: SecuredElasticsearch
    # A CA that signed neither server's certificate.
    other_ca_file: Path
    # The run directory and ports of the broker, for restarting it.
    broker_environment: dict[str, str]
    # The same broker's SSL listener that wants a client certificate.
    kafka_mutual_tls: MutualTlsListener

    def kafka_environment(self) -> dict[str, str]:
        return {
            "FURROW_KAFKA_BOOTSTRAP_SERVERS": self.kafka.bootstrap_servers,
            "FURROW_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "FURROW_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
            "FURROW_KAFKA_SASL_USERNAME": self.kafka.username,
            "FURROW_KAFKA_SASL_PASSWORD_FILE": str(self.kafka.password_file),
            "FURROW_KAFKA_SSL_CA_FILE": str(self.kafka.ca_file),
        }

    def elasticsearch_environment(self) -> dict[str, str]:
        # The API key from the environment, as a platform's secret store would set it.
        return {
            "FURROW_ELASTICSEARCH_URL": self.elasticsearch.url,
            "FURROW_ELASTICSEARCH_API_KEY": self.secrets()[1],
            "FURROW_ELASTICSEARCH_CA_FILE": str(self.elasticsearch.ca_file),
        }

    def kafka_settings(self) -> KafkaSettings:
        return KafkaSettings(
            bootstrap_servers=self.kafka.bootstrap_servers,
            security_protocol="SASL_SSL",
            sasl_mechanism="SCRAM-SHA-256",
            sasl_username=self.kafka.username,
            sasl_password_file=self.kafka.password_file,
            ssl_ca_file=self.kafka.ca_file,
        )

    def secrets(self) -> list[str]:
        """Kafka's password, the API key (id:key) and Elasticsearch's password."""
        files = (
            self.kafka.password_file,
            self.elasticsearch.api_key_file,
            self.elasticsearch.password_file,
        )
        return [path.read_text().strip() for path in files]


@pytest.fixture(scope="module")
def secured(elasticsearch_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    """A broker of this module's own with a SASL_SSL listener, and nginx before the shared
    Elasticsearch; both stopped at the end."""
    run = tmp_path_factory.mktemp("secured")
    broker, _controller = free_ports(2, consecutive=True)
    sasl_ssl, mutual_tls, proxy = free_ports(3)
    own = {
        "FURROW_RUN_DIR": str(run),
        "FURROW_KAFKA_PORT": str(broker),
        "FURROW_KAFKA_SASL_SSL_PORT": str(sasl_ssl),
        "FURROW_KAFKA_SSL_PORT": str(mutual_tls),
        "FURROW_ES_TLS_PORT": str(proxy),
    }
    with environment(own):
        try:
            kafka.start(partitions=1)
            elasticsearch_tls.start()
            listener = kafka.secured_listener()
            mutual = kafka.mutual_tls_listener()
            assert listener is not None and mutual is not None
            yield Secured(
                listener,
                kafka.address(),
                elasticsearch_tls.secured(),
                certificates(run / "other-ca").ca_file,
                own,
                mutual,
            )
        finally:
            elasticsearch_tls.stop()
            kafka.stop()


@pytest.fixture
async def names(secured: Secured) -> Names:
    """Topics of this test's own on the secured broker, made through its SASL_SSL listener."""
    unique = Names()
    admin = admin_client(secured.kafka_settings())
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(unique.topic(kind), 1, 1) for kind in ("raw", "good", "bad")]
        )
    finally:
        await admin.close()
    return unique


def pipeline_environment(secured: Secured, names: Names) -> dict[str, str]:
    return {
        **secured.kafka_environment(),
        **secured.elasticsearch_environment(),
        "FURROW_TOPICS_RAW": names.topic("raw"),
        "FURROW_TOPICS_GOOD": names.topic("good"),
        "FURROW_TOPICS_BAD": names.topic("bad"),
        # No registry: a page view needs only the schemas built in.
        "FURROW_ENRICH_REGISTRY_URL": "http://127.0.0.1:9",
        "FURROW_ENRICH_GROUP_ID": names.group("enrich"),
        "FURROW_SINK_GOOD_INDEX": names.alias("good"),
        "FURROW_SINK_GOOD_GROUP_ID": names.group("good"),
        "FURROW_SINK_GOOD_FLUSH_INTERVAL_S": "0.2",
    }


async def test_events_through_the_secured_pipeline_a_rotated_key_and_no_secret_shown(
    secured: Secured, names: Names, tmp_path: Path
) -> None:
    """Collector, enricher and good sink over SASL_SSL and TLS; the sink's API key rotated on
    the cluster while it runs: 503 with the reason, then the key file rewritten, and the event
    waiting meanwhile is indexed."""
    key_file = tmp_path / "api-key"
    key_file.write_text(secured.secrets()[1] + "\n")
    environment = {
        **pipeline_environment(secured, names),
        "FURROW_ELASTICSEARCH_API_KEY": "",
        "FURROW_ELASTICSEARCH_API_KEY_FILE": str(key_file),
    }
    environment = {name: value for name, value in environment.items() if value}
    collector_port, enrich_health, sink_health = health_port(), health_port(), health_port()
    sink_health_url = f"http://127.0.0.1:{sink_health}/health"
    shown_secrets = secured.secrets()
    started = start_pipeline(environment, collector_port, enrich_health, sink_health, tmp_path)
    answers: list[str] = []
    try:
        async with httpx.AsyncClient() as http:
            first = await _track(http, collector_port)
            document = await _indexed(secured, names.alias("good"), first)
            assert document["event_name"] == "page_view"

            new_key = elasticsearch_tls.rotate_api_key()
            shown_secrets.append(new_key)
            second = await _track(http, collector_port)
            refused = await _until(http, sink_health_url, lambda answer: answer.status_code == 503)
            answers.append(refused.text)
            assert "refused the credentials: check [elasticsearch] api_key" in refused.text
            key_file.write_text(new_key + "\n")
            await _indexed(secured, names.alias("good"), second)
            await _until(http, sink_health_url, lambda answer: answer.status_code == 200)

            for port in (collector_port, enrich_health, sink_health):
                for path in ("/health", "/metrics"):
                    answers.append((await http.get(f"http://127.0.0.1:{port}{path}")).text)
    finally:
        for service in started:
            service.stop()
    shown = "\n".join(answers) + "".join(service.log.read_text() for service in started)
    for secret in shown_secrets:
        assert secret not in shown


async def test_an_event_through_kafka_over_mutual_tls(
    secured: Secured, names: Names, tmp_path: Path
) -> None:
    """Collector, enricher and good sink authenticated to Kafka by a client certificate alone
    (security_protocol SSL, no SASL), as an mTLS cluster wants."""
    mutual = secured.kafka_mutual_tls
    environment = {
        name: value
        for name, value in pipeline_environment(secured, names).items()
        if not name.startswith("FURROW_KAFKA_")
    }
    environment |= {
        "FURROW_KAFKA_BOOTSTRAP_SERVERS": mutual.bootstrap_servers,
        "FURROW_KAFKA_SECURITY_PROTOCOL": "SSL",
        "FURROW_KAFKA_SSL_CA_FILE": str(mutual.ca_file),
        "FURROW_KAFKA_SSL_CERT_FILE": str(mutual.client.cert_file),
        "FURROW_KAFKA_SSL_KEY_FILE": str(mutual.client.key_file),
    }
    collector_port, enrich_health, sink_health = health_port(), health_port(), health_port()
    started = start_pipeline(environment, collector_port, enrich_health, sink_health, tmp_path)
    try:
        async with httpx.AsyncClient() as http:
            event_id = await _track(http, collector_port)
            assert (await _indexed(secured, names.alias("good"), event_id))["event_id"] == event_id
    finally:
        for service in started:
            service.stop()


async def test_a_rotated_kafka_password_shows_on_health_and_is_taken_from_its_file(
    secured: Secured, names: Names, tmp_path: Path
) -> None:
    """The services' SCRAM password changed on the broker, which is then restarted so that every
    connection authenticates again: the collector's /sink-health and the enricher's and the
    sink's /health answer 503 naming the setting, never the secret. Once the password file is
    rewritten, every service takes the new password, and the event sent meanwhile is indexed."""
    user = f"rotating-{uuid.uuid4().hex[:8]}"
    old, new = secrets.token_hex(16), secrets.token_hex(16)
    set_scram_password(secured.kafka_plaintext, user, old)
    grant(
        secured.kafka_plaintext,
        user,
        [(ResourceType.TOPIC, "*", AclOperation.ALL), (ResourceType.GROUP, "*", AclOperation.ALL)],
    )
    password_file = tmp_path / "kafka-password"
    password_file.write_text(old + "\n")
    settings = {
        **pipeline_environment(secured, names),
        "FURROW_KAFKA_SASL_USERNAME": user,
        "FURROW_KAFKA_SASL_PASSWORD_FILE": str(password_file),
    }
    collector_port, enrich_health, sink_health = health_port(), health_port(), health_port()
    started = start_pipeline(settings, collector_port, enrich_health, sink_health, tmp_path)
    answers: list[str] = []
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            first = await _track(http, collector_port)
            await _indexed(secured, names.alias("good"), first)

            set_scram_password(secured.kafka_plaintext, user, new)
            await asyncio.to_thread(restart_broker, secured)
            second = str(uuid.uuid4())
            # Refused while the collector's producer has the old password: 503, to be retried.
            assert (await _send_page_view(http, collector_port, second)).status_code == 503
            refused = "refused the credentials of [kafka] sasl_username"
            for url in (
                f"http://127.0.0.1:{collector_port}/sink-health",
                f"http://127.0.0.1:{enrich_health}/health",
                f"http://127.0.0.1:{sink_health}/health",
            ):
                answer = await _until(
                    http, url, lambda a: a.status_code == 503 and refused in a.text
                )
                answers.append(answer.text)

            password_file.write_text(new + "\n")
            accepted = await _until_sent(http, collector_port, second)
            assert accepted.status_code == 200
            await _indexed(secured, names.alias("good"), second)
            for port in (enrich_health, sink_health):
                await _until(
                    http, f"http://127.0.0.1:{port}/health", lambda a: a.status_code == 200
                )
    finally:
        for service in started:
            service.stop()
    shown = "\n".join(answers) + "".join(service.log.read_text() for service in started)
    assert old not in shown
    assert new not in shown


async def test_each_service_needs_no_more_than_the_kafka_acls_documented(
    secured: Secured, names: Names, tmp_path: Path
) -> None:
    """Collector, enricher and both sinks, each as a SCRAM user of its own holding only the ACLs
    docs/operating.md lists for it: a page view reaches `good`, an event of an unknown schema
    `bad`. A user without ACLs is refused, so the broker does check them."""
    raw, good, bad = (names.topic(kind) for kind in ("raw", "good", "bad"))
    groups = {
        "enrich": names.group("enrich"),
        "good": names.group("good"),
        "bad": names.group("bad"),
    }
    read = (AclOperation.READ, AclOperation.DESCRIBE)
    write = (AclOperation.WRITE, AclOperation.DESCRIBE)
    topic, group = ResourceType.TOPIC, ResourceType.GROUP
    acls: dict[str, list[tuple[ResourceType, str, AclOperation]]] = {
        "collector": [(topic, raw, op) for op in write],
        "enrich": [
            *((topic, raw, op) for op in read),
            *((topic, name, op) for name in (good, bad) for op in write),
            *((group, groups["enrich"], op) for op in read),
        ],
        "good": [
            *((topic, good, op) for op in read),
            *((topic, bad, op) for op in write),
            *((group, groups["good"], op) for op in read),
        ],
        "bad": [*((topic, bad, op) for op in read), *((group, groups["bad"], op) for op in read)],
    }
    environment = {
        **pipeline_environment(secured, names),
        "FURROW_SINK_BAD_INDEX": names.alias("bad"),
        "FURROW_SINK_BAD_GROUP_ID": groups["bad"],
        "FURROW_SINK_BAD_FLUSH_INTERVAL_S": "0.2",
    }
    users = {service: f"{service}-{names.tag}" for service in acls}
    for service, user in users.items():
        password = secrets.token_hex(16)
        set_scram_password(secured.kafka_plaintext, user, password)
        grant(secured.kafka_plaintext, user, acls[service])
        (tmp_path / f"{service}-password").write_text(password + "\n")

    def as_user(service: str) -> dict[str, str]:
        return {
            **environment,
            "FURROW_KAFKA_SASL_USERNAME": users[service],
            "FURROW_KAFKA_SASL_PASSWORD_FILE": str(tmp_path / f"{service}-password"),
        }

    collector_port = health_port()
    started: list[Service] = []
    try:
        for args, service, port_variable in (
            (["sink", "bad"], "bad", "FURROW_SINK_BAD_HEALTH_PORT"),
            (["sink", "good"], "good", "FURROW_SINK_GOOD_HEALTH_PORT"),
            (["enrich"], "enrich", "FURROW_ENRICH_HEALTH_PORT"),
            (["collector"], "collector", "FURROW_COLLECTOR_PORT"),
        ):
            port = collector_port if service == "collector" else health_port()
            started.append(
                start_service(
                    args,
                    {**as_user(service), port_variable: str(port)},
                    health_port=port,
                    log=tmp_path / f"{service}.log",
                )
            )
        async with httpx.AsyncClient() as http:
            page_view = await _track(http, collector_port)
            unknown = str(uuid.uuid4())
            event = {"schema": "iglu:com.acme/unknown/jsonschema/1-0-0", "data": {}}
            envelope = {"schema": UNSTRUCT_EVENT, "data": event}
            answer = await http.get(
                f"http://127.0.0.1:{collector_port}/i",
                params={
                    "e": "ue",
                    "p": "web",
                    "tv": "py-0.1",
                    "eid": unknown,
                    "ue_pr": orjson.dumps(envelope).decode(),
                },
            )
            assert answer.status_code == 200
            assert (await _indexed(secured, names.alias("good"), page_view))[
                "event_id"
            ] == page_view
            bad_row = await _bad_row_naming(secured, names.alias("bad"), unknown)
            assert "iglu:com.acme/unknown/jsonschema/1-0-0" in bad_row
    finally:
        for running in started:
            running.stop()

    nobody = f"nobody-{names.tag}"
    set_scram_password(secured.kafka_plaintext, nobody, "no-acls-at-all")
    password_file = tmp_path / "nobody-password"
    password_file.write_text("no-acls-at-all\n")
    settings = secured.kafka_settings().model_copy(
        update={"sasl_username": nobody, "sasl_password_file": password_file}
    )
    producer = AIOKafkaProducer(**aiokafka_options(settings))
    await producer.start()
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            await producer.send_and_wait(raw, b"refused")
    finally:
        await producer.stop()


UNSTRUCT_EVENT = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"


def grant(
    bootstrap_servers: str, user: str, acls: list[tuple[ResourceType, str, AclOperation]]
) -> None:
    """Allow `user` each (resource type, literal name, operation) from any host."""
    admin = AdminClient({"bootstrap.servers": bootstrap_servers})
    bindings = [
        AclBinding(
            kind,
            name,
            ResourcePatternType.LITERAL,
            f"User:{user}",
            "*",
            operation,
            AclPermissionType.ALLOW,
        )
        for kind, name, operation in acls
    ]
    for done in admin.create_acls(bindings).values():
        done.result(timeout=30)


def restart_broker(secured: Secured) -> None:
    with environment(secured.broker_environment):
        kafka.stop()
        kafka.start(partitions=1)


def set_scram_password(bootstrap_servers: str, user: str, password: str) -> None:
    """Create `user`, or change its password, for both SCRAM mechanisms."""
    admin = AdminClient({"bootstrap.servers": bootstrap_servers})
    # One request per mechanism: Kafka refuses two changes of one user in a request.
    for mechanism in (ScramMechanism.SCRAM_SHA_256, ScramMechanism.SCRAM_SHA_512):
        upsert: list[UserScramCredentialAlteration] = [
            UserScramCredentialUpsertion(
                user, ScramCredentialInfo(mechanism, 4096), password.encode()
            )
        ]
        for done in admin.alter_user_scram_credentials(upsert).values():
            done.result(timeout=30)


def start_pipeline(
    environment: dict[str, str],
    collector_port: int,
    enrich_health: int,
    sink_health: int,
    logs: Path,
) -> list[Service]:
    """The good sink, the enricher and the collector, healthy."""
    started: list[Service] = []
    try:
        for args, health, settings in (
            (["sink", "good"], sink_health, {"FURROW_SINK_GOOD_HEALTH_PORT": str(sink_health)}),
            (["enrich"], enrich_health, {"FURROW_ENRICH_HEALTH_PORT": str(enrich_health)}),
            (["collector"], collector_port, {"FURROW_COLLECTOR_PORT": str(collector_port)}),
        ):
            started.append(
                start_service(
                    args,
                    {**environment, **settings},
                    health_port=health,
                    log=logs / f"{args[0]}.log",
                )
            )
    except BaseException:
        for service in started:
            service.stop()
        raise
    return started


async def _send_page_view(
    http: httpx.AsyncClient, collector_port: int, event_id: str
) -> httpx.Response:
    return await http.get(
        f"http://127.0.0.1:{collector_port}/i",
        params={"e": "pv", "p": "web", "tv": "py-0.1", "eid": event_id, "url": "https://a.b/"},
    )


async def _until_sent(
    http: httpx.AsyncClient, collector_port: int, event_id: str
) -> httpx.Response:
    """The page view sent again, as a tracker retries, until the collector takes it."""
    deadline = time.monotonic() + 60
    while True:
        answer = await _send_page_view(http, collector_port, event_id)
        if answer.status_code == 200 or time.monotonic() > deadline:
            return answer
        await asyncio.sleep(0.5)


async def _track(http: httpx.AsyncClient, collector_port: int) -> str:
    """A page view through the collector's pixel; its event id."""
    event_id = str(uuid.uuid4())
    pixel = await _send_page_view(http, collector_port, event_id)
    assert pixel.status_code == 200
    return event_id


async def _until(
    http: httpx.AsyncClient, url: str, wanted: Callable[[httpx.Response], bool]
) -> httpx.Response:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        answer = await http.get(url)
        if wanted(answer):
            return answer
        await asyncio.sleep(0.2)
    raise AssertionError(f"{url} never answered as wanted: {answer.status_code} {answer.text}")


async def _indexed(secured: Secured, alias: str, event_id: str) -> dict[str, object]:
    hit = await _searched(secured, alias, {"ids": {"values": [event_id]}}, lambda hit: True)
    return dict(hit["_source"])


async def _bad_row_naming(secured: Secured, alias: str, event_id: str) -> str:
    """The first schema-violation bad row in `alias` that holds `event_id`, as JSON text."""
    hit = await _searched(
        secured,
        alias,
        {"term": {"failure_type": "schema_violations"}},
        lambda hit: event_id in orjson.dumps(hit["_source"]).decode(),
    )
    return orjson.dumps(hit["_source"]).decode()


async def _searched(
    secured: Secured, alias: str, query: dict[str, Any], wanted: Callable[[Any], bool]
) -> Any:
    """The first hit of `query` in `alias` that is `wanted`, waited for up to 60 s."""
    # A user and password this time, from a file: the API key was the services'.
    settings = ElasticsearchSettings(
        url=secured.elasticsearch.url,
        username=secured.elasticsearch.username,
        password_file=secured.elasticsearch.password_file,
        ca_file=secured.elasticsearch.ca_file,
    )
    async with elasticsearch_client(settings) as client:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if await client.indices.exists_alias(name=alias):
                try:
                    found = await client.search(index=alias, query=query)
                    hits = found["hits"]["hits"]
                except ApiError as error:
                    # A new index's shards may not be searchable yet on a busy machine.
                    if error.status_code != 503:
                        raise
                    hits = []
                if chosen := [hit for hit in hits if wanted(hit)]:
                    return chosen[0]
            await asyncio.sleep(0.5)
    raise AssertionError(f"nothing wanted matched {query} in {alias}")


def test_the_log_listener_and_replay_over_sasl_ssl(
    secured: Secured, names: Names, tmp_path: Path
) -> None:
    """The other two Kafka clients: the log listener's producer comes up healthy, and replay's
    admin client and consumer read `bad` to its end."""
    environment = {**secured.kafka_environment(), "FURROW_TOPICS_BAD": names.topic("bad")}
    listener_health = health_port()
    listener = start_service(
        ["logs"],
        {
            **environment,
            "FURROW_LOGS_PORT": str(free_ports(1)[0]),
            "FURROW_LOGS_HEALTH_PORT": str(listener_health),
        },
        health_port=listener_health,
        log=tmp_path / "logs.log",
    )
    assert listener.stop() == 0, listener.output()
    code, output, _ = run_until_exit(
        ["replay", "--type", "schema_violations", "--dry-run", "--no-progress"], environment
    )
    assert code == 0, output
    assert "read 0, matched 0, replayable 0" in output
    assert secured.secrets()[0] not in output + listener.log.read_text()


async def test_the_archive_forward_and_console_over_sasl_ssl_and_tls(
    secured: Secured, names: Names, tmp_path: Path
) -> None:
    """The services added last use the same settings: the archive sink archives `good` read over
    SASL_SSL; the forwarder delivers it to an HTTP receiver; the console answers from the
    Elasticsearch behind TLS. No secret in their logs."""
    events = list(enriched_lines(3))
    producer = AIOKafkaProducer(**aiokafka_options(secured.kafka_settings()))
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(names.topic("good"), event)
    finally:
        await producer.stop()
    received: list[bytes] = []
    receiver_port = free_ports(1)[0]
    receiver = uvicorn.Server(
        uvicorn.Config(_receiver(received), host="127.0.0.1", port=receiver_port, log_level="error")
    )
    serving = asyncio.create_task(receiver.serve())
    config = tmp_path / "furrow.toml"
    config.write_text(
        "[[forward.destinations]]\n"
        'name = "receiver"\n'
        'target = "http"\n'
        f'url = "http://127.0.0.1:{receiver_port}/events"\n'
    )
    environment = {
        **secured.kafka_environment(),
        **secured.elasticsearch_environment(),
        "FURROW_CONFIG": str(config),
        "FURROW_TOPICS_GOOD": names.topic("good"),
        "FURROW_TOPICS_BAD": names.topic("bad"),
        "FURROW_ARCHIVE_KINDS": "good",
        "FURROW_ARCHIVE_DIRECTORY": str(tmp_path / "archive"),
        "FURROW_ARCHIVE_MAX_AGE_S": "1",
        "FURROW_ARCHIVE_GROUP_ID": names.group("archive"),
        "FURROW_CONSOLE_REGISTRY_URL": "",
    }
    started: list[Service] = []
    try:
        for args, variable in (
            (["archive"], "FURROW_ARCHIVE_HEALTH_PORT"),
            (["forward"], "FURROW_FORWARD_HEALTH_PORT"),
            (["console"], "FURROW_CONSOLE_PORT"),
        ):
            port = health_port()
            started.append(
                start_service(
                    args,
                    {**environment, variable: str(port)},
                    health_port=port,
                    log=tmp_path / f"{args[0]}.log",
                )
            )
        archived = await _eventually(lambda: _archived_lines(tmp_path / "archive"))
        assert sorted(archived) == sorted(events)
        expected = {event.split(b"\t")[6].decode() for event in events}
        await _eventually(lambda: _event_ids(received) >= expected)
        assert _event_ids(received) == expected
        console = started[2].health_url.removesuffix("/health")
        async with httpx.AsyncClient(timeout=30) as http:
            answer = await http.get(f"{console}/api/events", params={"last": "1h"})
        assert answer.status_code == 200, answer.text
    finally:
        for service in started:
            service.stop()
        receiver.should_exit = True
        await serving
    logs = "".join(service.log.read_text() for service in started)
    for secret in secured.secrets():
        assert secret not in logs


def _receiver(received: list[bytes]) -> Starlette:
    async def events(request: Request) -> Response:
        received.append(await request.body())
        return Response(status_code=200)

    return Starlette(routes=[Route("/events", events, methods=["POST"])])


def _event_ids(bodies: list[bytes]) -> set[str]:
    return {document["event_id"] for body in bodies for document in orjson.loads(body)}


def _archived_lines(directory: Path) -> list[bytes]:
    return [
        line
        for path in sorted(directory.rglob("*.gz"))
        for line in gzip.decompress(path.read_bytes()).splitlines()
    ]


async def _eventually(check: Callable[[], T]) -> T:
    deadline = time.monotonic() + 60
    while not (found := check()):
        assert time.monotonic() < deadline, "not within 60 s"
        await asyncio.sleep(0.5)
    return found


def run_until_exit(args: list[str], env: dict[str, str]) -> tuple[int, str, float]:
    """`furrow <args>` run to its end: exit code, output, seconds taken."""
    started = time.monotonic()
    finished = subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        env={"PATH": "/usr/bin:/bin", **env},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=FAILS_WITHIN_S * 2,
        check=False,
    )
    return finished.returncode, finished.stdout + finished.stderr, time.monotonic() - started


@pytest.mark.parametrize(
    ("case", "named"),
    [
        ("wrong Kafka password", "refused the credentials of [kafka] sasl_username 'furrow'"),
        ("unknown Kafka CA", "set [kafka] ssl_ca_file (FURROW_KAFKA_SSL_CA_FILE)"),
        ("plaintext to Kafka's TLS port", "speaks TLS, and [kafka] security_protocol is PLAINTEXT"),
        ("TLS to Kafka's plaintext port", "does not speak TLS: check [kafka] security_protocol"),
        ("unknown SASL mechanism", "[kafka] sasl_mechanism (FURROW_KAFKA_SASL_MECHANISM)"),
        ("unreadable password file", "sasl_password_file /run/secrets/none cannot be read"),
        ("no client certificate for mutual TLS", "wants a client certificate: set [kafka]"),
        ("a client certificate of another CA", "refused the client certificate in [kafka]"),
    ],
)
def test_kafka_settings_refused_stop_the_enricher_at_start(
    secured: Secured, tmp_path: Path, case: str, named: str
) -> None:
    wrong = tmp_path / "wrong-password"
    wrong.write_text("not-the-password\n")
    mutual_tls = {
        "FURROW_KAFKA_BOOTSTRAP_SERVERS": secured.kafka_mutual_tls.bootstrap_servers,
        "FURROW_KAFKA_SECURITY_PROTOCOL": "SSL",
        "FURROW_KAFKA_SASL_USERNAME": "",
        "FURROW_KAFKA_SASL_MECHANISM": "",
        "FURROW_KAFKA_SASL_PASSWORD_FILE": "",
    }
    other_ca = certificates(secured.other_ca_file.parent)
    changes = {
        "wrong Kafka password": {"FURROW_KAFKA_SASL_PASSWORD_FILE": str(wrong)},
        "unknown Kafka CA": {"FURROW_KAFKA_SSL_CA_FILE": str(secured.other_ca_file)},
        "plaintext to Kafka's TLS port": {
            "FURROW_KAFKA_SECURITY_PROTOCOL": "PLAINTEXT",
            "FURROW_KAFKA_SASL_USERNAME": "",
        },
        "TLS to Kafka's plaintext port": {
            "FURROW_KAFKA_BOOTSTRAP_SERVERS": secured.kafka_plaintext
        },
        "unknown SASL mechanism": {"FURROW_KAFKA_SASL_MECHANISM": "SCRAM-SHA-1"},
        "unreadable password file": {"FURROW_KAFKA_SASL_PASSWORD_FILE": "/run/secrets/none"},
        "no client certificate for mutual TLS": mutual_tls,
        "a client certificate of another CA": {
            **mutual_tls,
            "FURROW_KAFKA_SSL_CERT_FILE": str(other_ca.cert_file),
            "FURROW_KAFKA_SSL_KEY_FILE": str(other_ca.key_file),
        },
    }[case]
    environment = {
        **secured.kafka_environment(),
        "FURROW_ENRICH_REGISTRY_URL": "http://127.0.0.1:9",
        "FURROW_ENRICH_HEALTH_PORT": str(health_port()),
        **changes,
    }
    environment = {name: value for name, value in environment.items() if value}
    if case == "plaintext to Kafka's TLS port":
        for name in ("SASL_PASSWORD_FILE", "SSL_CA_FILE"):
            environment.pop(f"FURROW_KAFKA_{name}")
    code, output, took = run_until_exit(["enrich"], environment)
    assert code == 2, output
    assert named in output
    assert took < FAILS_WITHIN_S
    assert secured.secrets()[0] not in output


def test_the_collector_stops_at_start_on_a_wrong_kafka_password(
    secured: Secured, tmp_path: Path
) -> None:
    wrong = tmp_path / "wrong-password"
    wrong.write_text("not-the-password\n")
    environment = {
        **secured.kafka_environment(),
        "FURROW_KAFKA_SASL_PASSWORD_FILE": str(wrong),
        "FURROW_COLLECTOR_PORT": str(free_ports(1)[0]),
    }
    code, output, took = run_until_exit(["collector"], environment)
    # uvicorn's own status for an application that failed to start.
    assert code == 3, output
    assert "refused the credentials of [kafka] sasl_username 'furrow'" in output
    assert took < FAILS_WITHIN_S
    assert "not-the-password" not in output


@pytest.mark.parametrize(
    ("case", "named"),
    [
        ("wrong API key", "refused the credentials: check [elasticsearch] api_key"),
        ("wrong password", "check [elasticsearch] password or password_file of username 'furrow'"),
        ("unknown CA", "set [elasticsearch] ca_file (FURROW_ELASTICSEARCH_CA_FILE)"),
        ("http:// to the TLS port", "speaks TLS: write [elasticsearch] url"),
    ],
)
def test_elasticsearch_settings_refused_stop_a_sink_at_start(
    secured: Secured, case: str, named: str
) -> None:
    url = secured.elasticsearch.url
    changes = {
        "wrong API key": {"FURROW_ELASTICSEARCH_API_KEY": "id:not-the-key"},
        "wrong password": {
            "FURROW_ELASTICSEARCH_API_KEY": "",
            "FURROW_ELASTICSEARCH_USERNAME": "furrow",
            "FURROW_ELASTICSEARCH_PASSWORD": "not-the-password",
        },
        "unknown CA": {"FURROW_ELASTICSEARCH_CA_FILE": str(secured.other_ca_file)},
        "http:// to the TLS port": {
            "FURROW_ELASTICSEARCH_URL": url.replace("https://", "http://"),
            "FURROW_ELASTICSEARCH_CA_FILE": "",
        },
    }[case]
    environment = {
        **secured.kafka_environment(),
        **secured.elasticsearch_environment(),
        "FURROW_SINK_BAD_HEALTH_PORT": str(health_port()),
        **changes,
    }
    environment = {name: value for name, value in environment.items() if value}
    code, output, took = run_until_exit(["sink", "bad"], environment)
    assert code == 2, output
    assert named in output
    assert took < FAILS_WITHIN_S
    for secret in secured.secrets():
        assert secret not in output
