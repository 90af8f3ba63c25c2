"""`furrow forward` as a process, between the real Kafka and real HTTP receivers started here that
count what they get: a receiver that answers 500 for a while, one that refuses an event with 400,
one that is down, an Amplitude stand-in, and a Kafka topic."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import jsonschema
import orjson
import pytest
import uvicorn
from aiokafka import AIOKafkaConsumer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from devstack.process import unused_port
from devstack.topics import created_topics, wait_until_consumed
from libs.formats import badrows
from libs.formats.enriched import to_json
from tests.enriched_events import enriched_lines
from tests.integration.kafka import produce
from tests.integration.processes import Service, start_service

EVENTS = 600
SCHEMA = orjson.loads(
    Path(
        badrows.BUILTIN_SCHEMAS, badrows.VENDOR, "event_forwarding_error/jsonschema/1-0-0"
    ).read_bytes()
)


@dataclass
class Receiver:
    """An HTTP endpoint that keeps every event POSTed to it; `answer(body)` picks the status."""

    answer: Callable[[list[dict[str, object]]], int] = lambda events: 200
    requests: int = 0
    bodies: list[object] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    delivered: list[dict[str, object]] = field(default_factory=list)
    url: str = ""

    def ids(self) -> list[object]:
        return [event.get("event_id", event.get("insert_id")) for event in self.delivered]


@contextlib.asynccontextmanager
async def receiving(receiver: Receiver, *, amplitude: bool = False) -> AsyncIterator[Receiver]:
    async def post(request: Request) -> Response:
        body = orjson.loads(await request.body())
        receiver.requests += 1
        receiver.bodies.append(body)
        receiver.headers.append(dict(request.headers))
        events = body["events"] if amplitude else body
        status = receiver.answer(events)
        if status == 200:
            receiver.delivered.extend(events)
        return Response(b"{}", status_code=status, media_type="application/json")

    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    receiver.url = f"http://127.0.0.1:{listening.getsockname()[1]}/events"
    app = Starlette(routes=[Route("/events", post, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False))
    serving = asyncio.create_task(server.serve(sockets=[listening]))
    try:
        yield receiver
    finally:
        server.should_exit = True
        await serving
        listening.close()


@dataclass
class Topics:
    good: str
    bad: str
    mirror: str


@pytest.fixture
async def topics(kafka_bootstrap: str) -> AsyncIterator[Topics]:
    tag = f"test-fwd-{int(time.time() * 1000) % 10**9}"
    names = Topics(f"{tag}-good", f"{tag}-bad", f"{tag}-mirror")
    async with created_topics(kafka_bootstrap, [names.good, names.bad, names.mirror], partitions=2):
        yield names


@pytest.fixture
def start_forward(
    kafka_bootstrap: str, topics: Topics, tmp_path: Path
) -> Iterator[Callable[..., Service]]:
    started: list[Service] = []

    def start(config: str, **environment: str) -> Service:
        path = tmp_path / "forward.toml"
        path.write_text(config)
        port = unused_port()
        service = start_service(
            ["--config", str(path), "forward"],
            {
                "FURROW_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
                "FURROW_TOPICS_GOOD": topics.good,
                "FURROW_TOPICS_BAD": topics.bad,
                "FURROW_FORWARD_HEALTH_PORT": str(port),
                **environment,
            },
            health_port=port,
            log=tmp_path / "forward.log",
        )
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()


def destination(name: str, group: str, **settings: object) -> str:
    lines = [
        "[[forward.destinations]]",
        f'name = "{name}"',
        f'group_id = "{group}-{name}"',
        "flush_interval_s = 0.1",
    ]
    lines += [f"{key} = {toml_value(value)}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"


def toml_value(value: object) -> str:
    if isinstance(value, dict):
        pairs = [f"{toml_value(key)} = {toml_value(item)}" for key, item in value.items()]
        return "{ " + ", ".join(pairs) + " }"
    # Strings, numbers and lists of them are written alike in JSON and TOML.
    return orjson.dumps(value).decode()


async def bad_rows(bootstrap: str, topic: str, count: int) -> list[dict[str, object]]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    rows: list[dict[str, object]] = []
    try:
        async with asyncio.timeout(30):
            while len(rows) < count:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    rows += [orjson.loads(record.value) for record in records]
        # Anything more would be a bad row too many.
        for records in (await consumer.getmany(timeout_ms=1000)).values():
            rows += [orjson.loads(record.value) for record in records]
    finally:
        await consumer.stop()
    return rows


def metric(service: Service, name: str, destination: str) -> float:
    text = httpx.get(service.health_url.replace("/health", "/metrics")).text
    prefix = f'{name}{{destination="{destination}"}} '
    return sum(float(line[len(prefix) :]) for line in text.splitlines() if line.startswith(prefix))


def event_ids(lines: list[bytes]) -> list[str]:
    return [str(to_json(line.decode())["event_id"]) for line in lines]


async def test_a_destination_answering_500_for_a_while_gets_every_event_while_another_is_down(
    kafka_bootstrap: str, topics: Topics, start_forward: Callable[..., Service]
) -> None:
    lines = list(enriched_lines(EVENTS, seed=21))
    first_request: list[float] = []

    def answer(events: list[dict[str, object]]) -> int:
        # 500 for the first three seconds after the first request.
        first_request.append(time.monotonic())
        return 500 if time.monotonic() < first_request[0] + 3.0 else 200

    group = topics.good
    async with receiving(Receiver(answer)) as flaky:
        closed = socket.socket()
        closed.bind(("127.0.0.1", 0))
        down_url = f"http://127.0.0.1:{closed.getsockname()[1]}/events"
        closed.close()
        config = destination(
            "flaky", group, target="http", url=flaky.url, batch_max_events=100, max_backoff_s=1.0
        ) + destination(
            "down", group, target="http", url=down_url, max_backoff_s=1.0, max_attempts=40
        )
        service = start_forward(config)
        await produce(kafka_bootstrap, topics.good, lines)
        await wait_until_consumed(kafka_bootstrap, f"{group}-flaky", topics.good, timeout_s=60)
        # Every event at least once; deduplicated on its id, each exactly once.
        expected = event_ids(lines)
        assert set(expected) <= set(map(str, flaky.ids()))
        assert sorted(set(map(str, flaky.ids()))) == sorted(expected)
        assert flaky.requests > EVENTS // 100
        assert metric(service, "furrow_forward_events_retried_total", "flaky") > 0
        assert metric(service, "furrow_forward_events_sent_total", "flaky") >= EVENTS
        # The destination that is down holds up only its own group, which has committed nothing.
        assert metric(service, "furrow_forward_events_sent_total", "down") == 0
        assert metric(service, "furrow_forward_events_retried_total", "down") > 0
        # The lag as last measured (every few seconds): all of good for it, none for the other.
        async with asyncio.timeout(20):
            while True:
                lags = [metric(service, "furrow_forward_lag_records", d) for d in ("flaky", "down")]
                if lags == [0, EVENTS]:
                    break
                await asyncio.sleep(0.5)


async def test_events_past_their_retry_budget_become_bad_rows_and_are_committed(
    kafka_bootstrap: str, topics: Topics, start_forward: Callable[..., Service]
) -> None:
    lines = list(enriched_lines(30, seed=26))
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    down_url = f"http://127.0.0.1:{closed.getsockname()[1]}/events"
    closed.close()
    group = topics.good
    config = destination(
        "gone", group, target="http", url=down_url, max_attempts=3, max_backoff_s=0.2
    )
    service = start_forward(config)
    await produce(kafka_bootstrap, topics.good, lines)
    await wait_until_consumed(kafka_bootstrap, f"{group}-gone", topics.good, timeout_s=60)
    rows = await bad_rows(kafka_bootstrap, topics.bad, len(lines))
    assert sorted(str(row["data"]["payload"]) for row in rows) == sorted(  # type: ignore[index]
        line.decode() for line in lines
    )
    validator = jsonschema.Draft4Validator(
        SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )
    for row in rows:
        assert row["schema"] == badrows.EVENT_FORWARDING_ERROR
        validator.validate(row["data"])
        failure = row["data"]["failure"]  # type: ignore[index]
        assert failure["errorType"] == "RetriesExhausted"
        assert failure["errorCode"] is None
        assert failure["errorMessage"].startswith("destination gone: ConnectError")
    assert metric(service, "furrow_forward_events_failed_total", "gone") == len(lines)


async def test_an_event_the_destination_refuses_becomes_an_event_forwarding_error(
    kafka_bootstrap: str, topics: Topics, start_forward: Callable[..., Service]
) -> None:
    lines = list(enriched_lines(50, seed=22))
    refused = event_ids(lines)[17]

    def answer(events: list[dict[str, object]]) -> int:
        return 400 if any(event["event_id"] == refused for event in events) else 200

    async with receiving(Receiver(answer)) as receiver:
        group = topics.good
        start_forward(destination("strict", group, target="http", url=receiver.url))
        await produce(kafka_bootstrap, topics.good, lines)
        await wait_until_consumed(kafka_bootstrap, f"{group}-strict", topics.good, timeout_s=60)
        assert sorted(map(str, set(receiver.ids()))) == sorted(set(event_ids(lines)) - {refused})
    (row,) = await bad_rows(kafka_bootstrap, topics.bad, 1)
    assert row["schema"] == badrows.EVENT_FORWARDING_ERROR
    data = row["data"]
    assert isinstance(data, dict)
    assert data["failure"]["errorType"] == "Refused"
    assert data["failure"]["errorCode"] == "400"
    assert data["failure"]["errorMessage"].startswith("destination strict: HTTP 400")
    assert data["payload"] == lines[17].decode()
    assert orjson.loads(data["failure"]["latestState"])["event_id"] == refused


async def test_filters_fields_headers_and_the_secret_reach_the_receiver(
    kafka_bootstrap: str, topics: Topics, start_forward: Callable[..., Service]
) -> None:
    lines = list(enriched_lines(100, seed=23))

    async with receiving(Receiver()) as receiver:
        group = topics.good
        config = destination(
            "views",
            group,
            target="http",
            url=receiver.url,
            headers={"X-Source": "furrow"},
            auth_header="Authorization",
            auth_env="VIEWS_TOKEN",
            fields=["event_id", "event_name", "page_url"],
        )
        config += '[forward.destinations.filter]\nevent_name = ["page_view"]\n'
        service = start_forward(config, VIEWS_TOKEN="Bearer t0ken")
        await produce(kafka_bootstrap, topics.good, lines)
        await wait_until_consumed(kafka_bootstrap, f"{group}-views", topics.good, timeout_s=60)
        views = [line for line in lines if to_json(line.decode())["event_name"] == "page_view"]
        assert sorted(map(str, receiver.ids())) == sorted(event_ids(views))
        assert all(
            set(event) == {"event_id", "event_name", "page_url"} for event in receiver.delivered
        )
        assert metric(service, "furrow_forward_events_filtered_total", "views") == 80
        for headers in receiver.headers:
            assert headers["x-source"] == "furrow"
            assert headers["authorization"] == "Bearer t0ken"
            assert headers["content-type"] == "application/json"
    assert "t0ken" not in service.output()


async def test_amplitude_gets_its_events_with_the_api_key(
    kafka_bootstrap: str, topics: Topics, start_forward: Callable[..., Service]
) -> None:
    lines = list(enriched_lines(40, seed=24))
    async with receiving(Receiver(), amplitude=True) as amplitude:
        group = topics.good
        start_forward(
            destination("amp", group, target="amplitude", url=amplitude.url, api_key_env="AMP_KEY"),
            AMP_KEY="amp-secret",
        )
        await produce(kafka_bootstrap, topics.good, lines)
        await wait_until_consumed(kafka_bootstrap, f"{group}-amp", topics.good, timeout_s=60)
    assert {body["api_key"] for body in amplitude.bodies} == {"amp-secret"}  # type: ignore[index]
    assert sorted(map(str, set(amplitude.ids()))) == sorted(event_ids(lines))
    for event in amplitude.delivered:
        assert isinstance(event["time"], int) and event["device_id"] and event["event_type"]


async def test_a_kafka_destination_gets_every_event(
    kafka_bootstrap: str, topics: Topics, start_forward: Callable[..., Service]
) -> None:
    lines = list(enriched_lines(80, seed=25))
    group = topics.good
    start_forward(destination("mirror", group, target="kafka", topic=topics.mirror))
    await produce(kafka_bootstrap, topics.good, lines)
    await wait_until_consumed(kafka_bootstrap, f"{group}-mirror", topics.good, timeout_s=60)
    mirrored = await bad_rows(kafka_bootstrap, topics.mirror, len(lines))
    assert sorted(str(event["event_id"]) for event in mirrored) == sorted(event_ids(lines))
