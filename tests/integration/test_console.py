"""`furrow console` against a real Elasticsearch holding what the pipeline writes (documents made
by the enricher's core and the sinks' own code, in the sinks' indices): its JSON answers, the
refusals of bad parameters, injection strings that stay data, the Micro API, and each view in
headless Chromium without an error, with a screenshot under build/console/."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from devstack.indices import connected, delete_alias_and_indices
from devstack.process import REPO_ROOT, unused_port
from devstack.topics import created_topics, partitions_of, wait_until_consumed
from libs.formats.enriched import timestamp, to_tsv
from services.console.rates import MIN_INTERVAL_S
from tests.integration.console_data import (
    GEOLOCATION,
    Loaded,
    fresh_document,
    load,
    structured,
    write_schemas,
)
from tests.integration.kafka import produce
from tests.integration.processes import Names, Service, start_service
from tests.integration.registry_servers import SUPER_KEY, empty_registry
from tests.integration.test_real_trackers import chromium, in_chromium, node_project
from tests.integration.test_sinks import sink_environment
from tests.schema_trees import write_schema

__all__ = ["chromium", "node_project"]
SCREENSHOTS = REPO_ROOT / "build" / "console"
COMPONENT_PORTS = (
    "FURROW_REGISTRY_PORT",
    "FURROW_ENRICH_HEALTH_PORT",
    "FURROW_SINK_GOOD_HEALTH_PORT",
    "FURROW_SINK_BAD_HEALTH_PORT",
    "FURROW_SINK_LOGS_HEALTH_PORT",
    "FURROW_LOGS_HEALTH_PORT",
)
INJECTIONS = ['"} OR 1=1', '{"match_all": {}}', "*", "doc['x'].value", "</td><script>x()</script>"]


@pytest.fixture(scope="module")
def schemas(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_schemas(tmp_path_factory.mktemp("schemas"))


@pytest.fixture(scope="module")
async def loaded(elasticsearch_url: str, schemas: Path) -> AsyncIterator[Loaded]:
    names = Names()
    async with connected(elasticsearch_url) as client:
        written = await load(client, schemas, names)
        try:
            yield written
        finally:
            for alias in (written.good_alias, written.bad_alias, written.logs_alias):
                await delete_alias_and_indices(client, alias)


def console_environment(
    loaded: Loaded, elasticsearch_url: str, port: int, registry_url: str = ""
) -> dict[str, str]:
    """A console on `port` over the loaded indices; no registry unless `registry_url`."""
    return {
        "FURROW_CONSOLE_PORT": str(port),
        "FURROW_CONSOLE_GOOD_INDEX": loaded.good_alias,
        "FURROW_CONSOLE_BAD_INDEX": loaded.bad_alias,
        "FURROW_CONSOLE_LOGS_INDEX": loaded.logs_alias,
        "FURROW_CONSOLE_REGISTRY_URL": registry_url,
        "FURROW_ELASTICSEARCH_URL": elasticsearch_url,
        # The pipeline view asks each component's health: nothing answers on these ports,
        # but the "collector"'s is the console's own.
        "FURROW_COLLECTOR_PORT": str(port),
        **{variable: str(unused_port()) for variable in COMPONENT_PORTS},
        # No Kafka here (the lag has a test of its own).
        "FURROW_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{unused_port()}",
    }


class Console:
    def __init__(self, service: Service, url: str, loaded: Loaded) -> None:
        self.service = service
        self.url = url
        self.loaded = loaded

    def get(self, path: str, **params: str) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", params=params, timeout=30)

    def json(self, path: str, **params: str) -> Any:
        answer = self.get(path, **params)
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture(scope="module")
def console(
    loaded: Loaded, elasticsearch_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Console]:
    port = unused_port()
    service = start_service(
        ["console"],
        console_environment(loaded, elasticsearch_url, port),
        health_port=port,
        log=tmp_path_factory.mktemp("logs") / "console.log",
    )
    yield Console(service, f"http://127.0.0.1:{port}", loaded)
    service.stop()


def app_id(console: Console, name: str) -> str:
    return f"{name}-{console.loaded.good_alias.split('-')[1]}"


def test_events_count_good_and_bad(console: Console) -> None:
    answer = console.json("/api/events", last="1h")
    assert answer["totals"] == {"good": 12, "bad": 6}
    assert (console.loaded.good, console.loaded.bad) == (12, 6)
    assert len(answer["rows"]) == 18
    for kind in ("good", "bad"):
        assert sum(count for _, count in answer["histogram"][kind]) == answer["totals"][kind]
    assert console.json("/api/events", last="1h", kind="bad")["totals"] == {"bad": 6}
    assert len(console.json("/api/events", last="1h", size="5")["rows"]) == 5


@pytest.mark.parametrize(
    ("params", "totals"),
    [
        ({"app_id": "shop"}, {"good": 5, "bad": 3}),
        ({"app_id": "blog"}, {"good": 7, "bad": 2}),
        ({"event_name": "page_view"}, {"good": 6, "bad": 0}),
        ({"platform": "mob"}, {"good": 4, "bad": 0}),
        ({"user_id": "alice"}, {"good": 1, "bad": 0}),
        ({"schema": GEOLOCATION}, {"good": 6, "bad": 0}),
        ({"schema": "iglu:com.acme/checkout/jsonschema/1-0-0"}, {"good": 2, "bad": 3}),
        ({"q": "alice"}, {"good": 1, "bad": 0}),
        ({"app_id": "shop", "event_name": "checkout"}, {"good": 2, "bad": 3}),
    ],
)
def test_filters_narrow_the_events(
    console: Console, params: dict[str, str], totals: dict[str, int]
) -> None:
    if "app_id" in params:
        params = {**params, "app_id": app_id(console, params["app_id"])}
    answer = console.json("/api/events", last="1h", **params)
    assert answer["totals"] == totals
    assert len(answer["rows"]) == sum(totals.values())


LATITUDE = "contexts_com_snowplowanalytics_snowplow_geolocation_context_1.latitude"


def test_picked_columns_reach_entity_fields(console: Console) -> None:
    answer = console.json("/api/events", last="1h", event_name="page_view", columns=LATITUDE)
    assert answer["columns"] == [LATITUDE]
    assert [row["extra"] for row in answer["rows"]] == [["52.5"]] * 6
    assert LATITUDE in answer["column_choices"]


@pytest.mark.parametrize("value", INJECTIONS)
@pytest.mark.parametrize("name", ["app_id", "event_name", "user_id", "q", "platform"])
def test_injection_strings_are_data_that_match_nothing(
    console: Console, name: str, value: str
) -> None:
    answer = console.json("/api/events", last="1h", **{name: value})
    assert answer["totals"] == {"good": 0, "bad": 0}
    assert console.json("/api/lookup", event_id=value)["status"] == "not seen"
    page = console.get("/events", last="1h", **{name: value})
    assert page.status_code == 200
    assert "<script>x()" not in page.text


@pytest.mark.parametrize(
    ("path", "params", "reason"),
    [
        ("/api/events", {"appid": "x"}, "unknown parameter 'appid'"),
        ("/api/events", {"last": "1 hour"}, "last must be a whole number"),
        ("/api/events", {"from": "2026-12-03T12:00:00Z", "to": "2026-12-03T11:00:00Z"}, "before"),
        ("/api/events", {"from": "yesterday"}, "from must be an ISO 8601 time"),
        ("/api/events", {"kind": "ugly"}, "kind must be all, good or bad"),
        ("/api/events", {"size": "100000"}, "size must be"),
        ("/api/events", {"schema": "checkout"}, "schema must be an Iglu URI"),
        ("/api/bad-groups", {"kind": "bad"}, "unknown parameter 'kind'"),
        ("/api/counts", {"by": "user_id"}, "by must be one of"),
        ("/api/counts", {"bucket": "1s", "last": "7d"}, "more than 2000 buckets"),
        ("/api/lookup", {"event_id": "x" * 201}, "longer than 200"),
        ("/events", {"last": "soon"}, "last must be a whole number"),
    ],
)
def test_bad_parameters_get_a_400_with_the_reason(
    console: Console, path: str, params: dict[str, str], reason: str
) -> None:
    answer = console.get(path, **params)
    assert answer.status_code == 400
    assert reason in answer.text


def test_lookup_says_good_bad_why_or_not_seen(console: Console) -> None:
    ids = console.loaded.event_ids
    good = console.json("/api/lookup", event_id=ids["page_view"])
    assert good["status"] == "good"
    assert good["good"]["user_id"] == "alice"
    bad = console.json("/api/lookup", event_id=ids["negative"])
    assert bad["status"] == "bad"
    [row] = bad["bad"]
    assert row["what"] == (
        "schema_violations: iglu:com.acme/checkout/jsonschema/1-0-0: $.total: "
        "-1 is less than the minimum of 0"
    )
    assert console.json("/api/lookup", event_id=str(uuid.uuid4()))["status"] == "not seen"


def test_bad_rows_are_grouped_by_type_schema_and_error(console: Console) -> None:
    groups = console.json("/api/bad-groups", last="1h")["groups"]
    found = [(g["failure_type"], g["schema"], g["message"], g["count"]) for g in groups]
    assert found == [
        ("schema_violations", "iglu:com.acme/checkout/jsonschema/1-0-0", "at $.total", 3),
        ("schema_violations", "iglu:com.acme/nowhere/jsonschema/1-0-0", "ResolutionError", 2),
        ("tracker_protocol_violations", "", "parameter eid", 1),
    ]
    assert all(g["first_seen"] <= g["last_seen"] for g in groups)
    assert [len(g["examples"]) for g in groups] == [3, 2, 1]
    assert [sum(g["sparkline"]) for g in groups] == [3, 2, 1]
    assert groups[0]["replay"] == (
        "furrow replay --type schema_violations --schema com.acme/checkout/jsonschema/1-0-0 "
        f"--since {groups[0]['first_seen']} --dry-run"
    )
    narrowed = console.json("/api/bad-groups", last="1h", app_id=app_id(console, "blog"))
    assert [g["count"] for g in narrowed["groups"]] == [2]


def test_counts_per_event_name_schema_and_app(console: Console) -> None:
    def totals(by: str) -> dict[str, int]:
        summed: dict[str, int] = {}
        for bucket in console.json("/api/counts", last="1h", bucket="5m", by=by)["buckets"]:
            for name, count in bucket["counts"].items():
                summed[name] = summed.get(name, 0) + count
        return summed

    assert totals("event_name") == {"page_view": 6, "event": 4, "checkout": 2}
    assert totals("schema") == {
        "iglu:com.snowplowanalytics.snowplow/page_view/jsonschema/1-0-0": 6,
        "iglu:com.google.analytics/event/jsonschema/1-0-0": 4,
        "iglu:com.acme/checkout/jsonschema/1-0-0": 2,
    }
    assert totals("app_id") == {app_id(console, "shop"): 5, app_id(console, "blog"): 7}
    answer = console.json("/api/counts", last="1h", bucket="10m")
    assert len(answer["buckets"]) in (6, 7)


def test_schemas_list_built_in_and_seen_ones_with_counts(console: Console) -> None:
    answer = console.json("/api/schemas", last="1h")
    versions = {
        version["uri"]: version for schema in answer["schemas"] for version in schema["versions"]
    }
    page_view = versions["iglu:com.snowplowanalytics.snowplow/page_view/jsonschema/1-0-0"]
    assert (page_view["sources"], page_view["good"], page_view["bad"]) == (["events"], 6, 0)
    web_page = versions["iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0"]
    assert (web_page["sources"], web_page["good"], web_page["bad"]) == (["built-in"], 0, 0)
    checkout = versions["iglu:com.acme/checkout/jsonschema/1-0-0"]
    assert (checkout["sources"], checkout["good"], checkout["bad"]) == (["events"], 2, 3)
    assert versions["iglu:com.acme/nowhere/jsonschema/1-0-0"]["bad"] == 2
    assert answer["registry_problem"] is None


def test_schemas_list_the_registrys_public_schemas_and_with_a_key_its_private_ones(
    loaded: Loaded, elasticsearch_url: str, tmp_path: Path
) -> None:
    vendor = f"com.acme.console{uuid.uuid4().hex[:6]}"
    shown, private = (f"iglu:{vendor}/{name}/jsonschema/1-0-0" for name in ("shown", "private"))
    seen: dict[str, dict[str, list[str]]] = {}
    with empty_registry("sqlite", tmp_path) as registry_url:
        with httpx.Client(base_url=registry_url, headers={"apikey": SUPER_KEY}) as admin:
            for name, public in (("shown", "true"), ("private", "false")):
                path = write_schema(tmp_path / "schemas", vendor, name, "1-0-0", type="object")
                answer = admin.put(
                    f"/api/schemas/{vendor}/{name}/jsonschema/1-0-0",
                    params={"isPublic": public},
                    content=path.read_bytes(),
                    headers={"content-type": "application/json"},
                )
                assert answer.status_code == 201, answer.text
        for label, key in (("without a key", None), ("with a key", SUPER_KEY)):
            port = unused_port()
            environment = console_environment(loaded, elasticsearch_url, port, registry_url)
            if key is not None:
                environment["FURROW_CONSOLE_REGISTRY_API_KEY"] = key
            service = start_service(
                ["console"], environment, health_port=port, log=tmp_path / f"{port}.log"
            )
            try:
                answer = httpx.get(
                    f"http://127.0.0.1:{port}/api/schemas", params={"last": "1h"}, timeout=30
                ).json()
            finally:
                service.stop()
            assert answer["registry_problem"] is None
            seen[label] = {
                version["uri"]: version["sources"]
                for schema in answer["schemas"]
                for version in schema["versions"]
                if version["uri"].startswith(f"iglu:{vendor}/")
            }
    assert seen["without a key"] == {shown: ["registry"]}
    assert seen["with a key"] == {shown: ["registry"], private: ["registry"]}


@pytest.mark.parametrize(
    ("params", "total", "levels"),
    [
        ({}, 6, {"INFO": 3, "ERROR": 2, "WARN": 1}),
        ({"level": "ERROR"}, 2, {"ERROR": 2}),
        ({"logger": "com.acme.shop.Cart"}, 2, {"INFO": 2}),
        ({"q": "payment order"}, 1, {"ERROR": 1}),
        ({"service": "billing"}, 0, {}),
        ({"q": '"} OR *'}, 0, {}),
    ],
)
def test_logs_by_level_logger_and_message(
    console: Console, params: dict[str, str], total: int, levels: dict[str, int]
) -> None:
    answer = console.json("/api/logs", last="1h", **params)
    assert (answer["total"], answer["levels"]) == (total, levels)
    assert len(answer["lines"]) == total


def test_pipeline_shows_each_components_health(console: Console) -> None:
    answer = console.json("/api/pipeline")
    states = {component["component"]: component["up"] for component in answer["components"]}
    assert states == {
        "registry": False,
        "collector": True,
        "enrich": False,
        "sink good": False,
        "sink bad": False,
        "sink logs": False,
        "log listener": False,
        "console": True,
    }
    down = next(c for c in answer["components"] if c["component"] == "enrich")
    assert down["says"].startswith("no answer")
    assert answer["kafka_problem"].startswith("Kafka did not answer")
    latency = answer["collector_to_indexed"]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/metrics did not answer: .+", latency["problem"])
    assert latency["refresh_interval"] == "500ms"
    assert "p50_s" not in latency
    # The module's first look at the pipeline.
    assert answer["rates"] == {
        "unit": "records/s",
        "over_s": None,
        "note": "first look since the console started: reload for rates",
    }
    assert console.get("/api/pipeline", verbose="1").status_code == 400


async def test_pipeline_shows_consumer_lag_per_partition(
    kafka_bootstrap: str, elasticsearch_url: str, tmp_path: Path
) -> None:
    names = Names()
    topic, group = names.topic("raw"), names.group("enrich")
    async with created_topics(kafka_bootstrap, [topic], partitions=2):
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        for partition, count in ((0, 5), (1, 3)):
            for _ in range(count):
                await producer.send_and_wait(topic, b"x", partition=partition)
        await producer.stop()
        consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=group)
        consumer.assign([TopicPartition(topic, 0)])
        await consumer.start()
        await consumer.commit({TopicPartition(topic, 0): 2})
        await consumer.stop()
        port = unused_port()
        service = start_service(
            ["console"],
            {
                "FURROW_CONSOLE_PORT": str(port),
                "FURROW_ELASTICSEARCH_URL": elasticsearch_url,
                "FURROW_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
                "FURROW_ENRICH_GROUP_ID": group,
                "FURROW_TOPICS_RAW": topic,
                "FURROW_TOPICS_GOOD": names.topic("good"),
                # Not the metrics of a good sink some other run may have on its usual port.
                "FURROW_SINK_GOOD_HEALTH_PORT": str(unused_port()),
            },
            health_port=port,
            log=tmp_path / "console.log",
        )
        try:
            async with httpx.AsyncClient(timeout=30) as client:
                answer = (await client.get(f"http://127.0.0.1:{port}/api/pipeline")).json()
        finally:
            service.stop()
    assert answer["kafka_problem"] is None
    enrich = next(row for row in answer["lags"] if row["component"] == "enrich")
    assert (enrich["group_id"], enrich["topic"], enrich["topic_written_by"]) == (
        group,
        topic,
        "collector",
    )
    # A first look: no rates yet.
    assert (enrich["written_per_s"], enrich["committed_per_s"]) == (None, None)
    assert enrich["partitions"] == [
        {"partition": 0, "end": 5, "committed": 2, "lag": 3},
        {"partition": 1, "end": 3, "committed": None, "lag": 3},
    ]
    good = next(row for row in answer["lags"] if row["component"] == "sink good")
    assert good["missing"] is True


def fresh_lines(count: int) -> list[bytes]:
    """Enriched events the collector received just now."""
    collected = timestamp(int(time.time() * 1000))
    return [
        to_tsv(
            {"event_id": str(uuid.uuid4()), "collector_tstamp": collected, "event": "page_view"}
        ).encode()
        for _ in range(count)
    ]


async def test_pipeline_shows_rates_and_the_time_from_collector_to_indexed(
    names: Names, kafka_bootstrap: str, elasticsearch_url: str, tmp_path: Path
) -> None:
    """Events through a real good sink into Elasticsearch: the second look tells how many records
    per second were written to the good topic and committed by the sink, and how long they took
    from collector to indexed."""
    topic, group, events = names.topic("good"), names.group("good"), 500
    sink_port = unused_port()
    sink = start_service(
        ["sink", "good"],
        sink_environment(names, "good", kafka_bootstrap, elasticsearch_url, 0, sink_port),
        health_port=sink_port,
        log=tmp_path / "sink-good.log",
    )
    port = unused_port()
    console = start_service(
        ["console"],
        {
            "FURROW_CONSOLE_PORT": str(port),
            "FURROW_CONSOLE_REGISTRY_URL": "",
            "FURROW_ELASTICSEARCH_URL": elasticsearch_url,
            "FURROW_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            **{
                f"FURROW_TOPICS_{kind.upper()}": names.topic(kind)
                for kind in ("raw", "good", "bad", "logs")
            },
            "FURROW_SINK_GOOD_GROUP_ID": group,
            "FURROW_SINK_GOOD_HEALTH_PORT": str(sink_port),
        },
        health_port=port,
        log=tmp_path / "console.log",
    )
    try:
        # Committed offsets in every partition before the first look, for the second to compare.
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            for partition in await partitions_of(kafka_bootstrap, topic):
                for line in fresh_lines(50):
                    await producer.send(topic, line, partition=partition)
        finally:
            await producer.stop()
        await wait_until_consumed(kafka_bootstrap, group, topic)
        async with httpx.AsyncClient(timeout=30) as client:
            first = (await client.get(f"http://127.0.0.1:{port}/api/pipeline")).json()
            await produce(kafka_bootstrap, topic, fresh_lines(events))
            await wait_until_consumed(kafka_bootstrap, group, topic)
            await asyncio.sleep(MIN_INTERVAL_S)
            second = (await client.get(f"http://127.0.0.1:{port}/api/pipeline")).json()
    finally:
        console.stop()
        assert sink.stop() == 0, sink.output()
    print(orjson.dumps(second, option=orjson.OPT_INDENT_2).decode())
    (before,) = (row for row in first["lags"] if row["component"] == "sink good")
    assert (before["written_per_s"], before["committed_per_s"]) == (None, None)
    assert first["rates"]["note"].startswith("first look")
    assert first["collector_to_indexed"]["over"].endswith("(no earlier look at it)")

    assert second["kafka_problem"] is None
    over_s = second["rates"]["over_s"]
    assert over_s >= MIN_INTERVAL_S
    assert second["rates"]["note"] is None
    (good,) = (row for row in second["lags"] if row["component"] == "sink good")
    assert (good["topic"], good["group_id"], good["topic_written_by"]) == (topic, group, "enrich")
    # Every record of the second batch was written, and committed, between the two looks.
    assert good["written_per_s"] * over_s == pytest.approx(events)
    assert good["committed_per_s"] * over_s == pytest.approx(events)
    latency = second["collector_to_indexed"]
    assert latency["problem"] is None
    assert latency["over"] == f"the last {over_s:.1f} s"
    # Up to 16 of each bulk, and the second batch needs at least one.
    assert 1 <= latency["observations"] <= events
    assert 0 < latency["p50_s"] <= latency["p95_s"] <= latency["p99_s"] < 60
    assert latency["refresh_interval"] == "500ms"


def test_micro_api_over_elasticsearch(console: Console) -> None:
    assert console.json("/micro/all") == {"total": 18, "good": 12, "bad": 6}
    views = httpx.post(
        f"{console.url}/micro/good", content=orjson.dumps({"event_type": "page_view"}), timeout=30
    ).json()
    assert len(views) == 6
    assert all(
        v["schema"] == "iglu:com.snowplowanalytics.snowplow/page_view/jsonschema/1-0-0"
        for v in views
    )
    with_entity = httpx.post(
        f"{console.url}/micro/good", content=orjson.dumps({"contexts": [GEOLOCATION]}), timeout=30
    ).json()
    assert len(with_entity) == 6
    bad = console.json("/micro/bad", limit="2")
    assert len(bad) == 2
    assert all(b["errors"][0].startswith(("schema_violations", "tracker_protocol")) for b in bad)
    assert len(console.json("/micro/bad", vendor="com.snowplowanalytics.snowplow")) == 6
    assert console.json("/micro/bad", vendor="com.acme") == []
    refused = console.get("/micro/reset")
    assert refused.status_code == 403
    assert "micro_reset_enabled" in refused.text
    assert console.json("/micro/all")["total"] == 18
    schema = console.json("/micro/iglu/com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0")
    assert schema["self"]["name"] == "web_page"


def test_the_live_tail_streams_events_that_arrive(
    console: Console, elasticsearch_url: str, schemas: Path
) -> None:
    marker = app_id(console, "tail")
    url = f"{console.url}/api/tail"
    with httpx.stream("GET", url, params={"kind": "good", "app_id": marker}, timeout=30) as stream:
        lines = stream.iter_lines()
        assert next(lines) == ": polled"
        event_id = str(uuid.uuid4())
        document = fresh_document(schemas, console.loaded.good_alias, structured(marker, event_id))
        httpx.put(
            f"{elasticsearch_url}/{document['index']}/_doc/{document['id']}",
            params={"refresh": "true"},
            json=document["source"],
            timeout=30,
        ).raise_for_status()
        rows = []
        for line in lines:
            if line.startswith("data: "):
                rows.append(orjson.loads(line.removeprefix("data: ")))
                break
    assert [(row["kind"], row["event_id"], row["app_id"]) for row in rows] == [
        ("good", event_id, marker)
    ]
    refused = console.get("/api/tail", kind="both")
    assert refused.status_code == 400
    assert "kind must be" in refused.text


def test_each_view_loads_in_chromium_without_errors(
    console: Console, node_project: Path, chromium: str, elasticsearch_url: str, schemas: Path
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    ids = console.loaded.event_ids
    tail_id = str(uuid.uuid4())
    # Events other tests added (the live tail's) are there too.
    shown = sum(console.json("/api/events", last="1h")["totals"].values())
    query = {
        "app_id": app_id(console, "blog"),
        "lookups": {"good": ids["page_view"], "bad": ids["negative"], "unseen": str(uuid.uuid4())},
        "elasticsearch": elasticsearch_url,
        "tail": fresh_document(
            schemas, console.loaded.good_alias, structured(app_id(console, "web"), tail_id)
        ),
    }
    arguments = (console.url, str(SCREENSHOTS), orjson.dumps(query).decode())
    seen = orjson.loads(in_chromium(node_project, chromium, "console_views.mjs", *arguments))
    print(orjson.dumps(seen, option=orjson.OPT_INDENT_2).decode())
    assert {name: view["problems"] for name, view in seen.items()} == {name: [] for name in seen}
    assert seen["events"]["rows"] == shown + 1  # and the live tail's
    assert '"event_id"' in seen["events"]["panel"] or '"schema"' in seen["events"]["panel"]
    assert seen["events-filtered"]["rows"] == 7
    assert seen["events-columns"]["picked"] == [LATITUDE, *["52.5"] * 6]
    assert "from=" in seen["events-histogram-click"]["url"]
    assert seen["events-histogram-click"]["rows"] == seen["events-histogram-click"]["bar"]
    assert [group[0] for group in seen["bad"]["groups"]] == ["3", "2", "1"]
    assert seen["bad"]["sparklines"] == 3
    assert seen["lookup-good"]["status"] == "good"
    assert seen["lookup-bad"]["status"] == "bad"
    assert seen["lookup-unseen"]["status"] == "not seen"
    assert seen["tail"]["shown"] == [tail_id]
    assert seen["schemas"]["schemas"] > 10
    assert (seen["logs"]["lines"], seen["logs"]["errors"]) == (6, 2)
    assert seen["pipeline"]["states"].count("up") == 2
    assert seen["pipeline"]["kafkaProblem"] == 1
    # No rates without Kafka's answer, nor latency without the good sink's.
    (rates,) = seen["pipeline"]["rates"]
    assert rates.startswith(("No rates:", "Over the last"))
    assert seen["pipeline"]["latencyProblem"] == 1
    assert sorted(path.name for path in SCREENSHOTS.glob("*.png")) == sorted(
        f"{name}.png" for name in seen
    )
