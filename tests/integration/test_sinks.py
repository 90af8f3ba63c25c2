"""The good and bad sinks as processes, between the real Kafka and the real Elasticsearch.

Enriched events are written to the good topic as an enricher would write them (see
tests/enriched_events.py). Events from a real tracker, through the collector and the enricher,
need only `produce` replaced by the tracker: everything after the good topic is what is tested
here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from elasticsearch import AsyncElasticsearch

from devstack.indices import wait_for_count
from devstack.topics import wait_until_consumed
from libs.formats.enriched import to_tsv
from tests.enriched_events import EVENT_TYPES, contexts, enriched_lines
from tests.integration.kafka import produce
from tests.integration.processes import Names, Service, health_port, start_service

EVENTS = 1000
INVALID = [
    b"not an enriched event",
    b"three\tcolumns\tonly",
    to_tsv(
        {"event_id": "bad-txn", "collector_tstamp": "2026-11-22 23:10:00.000", "txn_id": "x"}
    ).encode(),
]
# Its user context's `plan` is an object where every other event has a string: Elasticsearch
# refuses it, and it must come back as a loader_runtime_error bad row.
CONFLICTING_ID = "00000000-0000-4000-8000-00000000c0f1"
CONFLICTING = to_tsv(
    {
        "event_id": CONFLICTING_ID,
        "collector_tstamp": "2026-11-22 23:30:00.000",
        "event_name": "page_view",
        "contexts": contexts(("iglu:com.acme/user/jsonschema/1-0-2", {"plan": {"tier": "gold"}})),
    }
).encode()

SinkStarter = Callable[[str, int], Service]


def sink_environment(
    names: Names, kind: str, kafka: str, elasticsearch: str, run: int, port: int
) -> dict[str, str]:
    prefix = f"FURROW_SINK_{kind.upper()}"
    return {
        "FURROW_KAFKA_BOOTSTRAP_SERVERS": kafka,
        "FURROW_ELASTICSEARCH_URL": elasticsearch,
        "FURROW_TOPICS_GOOD": names.topic("good"),
        "FURROW_TOPICS_BAD": names.topic("bad"),
        "FURROW_TOPICS_LOGS": names.topic("logs"),
        f"{prefix}_INDEX": names.alias(kind),
        f"{prefix}_GROUP_ID": names.group(kind, run),
        f"{prefix}_HEALTH_PORT": str(port),
        f"{prefix}_FLUSH_INTERVAL_S": "0.2",
    }


@pytest.fixture
def start_sink(
    names: Names, kafka_bootstrap: str, elasticsearch_url: str, tmp_path: Path
) -> Iterator[SinkStarter]:
    """Starts `furrow sink <kind>` as consumer group number `run`; all are stopped at the end."""
    started: list[Service] = []

    def start(kind: str, run: int = 0) -> Service:
        port = health_port()
        environment = sink_environment(names, kind, kafka_bootstrap, elasticsearch_url, run, port)
        service = start_service(
            ["sink", kind], environment, health_port=port, log=tmp_path / f"sink-{kind}.log"
        )
        started.append(service)
        return service

    yield start
    for service in started:
        assert service.stop() == 0, service.output()


async def search(client: AsyncElasticsearch, index: str, **body: Any) -> dict[str, Any]:
    await client.indices.refresh(index=index)
    response = await client.search(index=index, **body)
    return dict(response.body)


async def test_events_are_searchable_typed_and_the_invalid_ones_are_bad_rows(
    names: Names, kafka_bootstrap: str, client: AsyncElasticsearch, start_sink: SinkStarter
) -> None:
    good, bad = names.alias("good"), names.alias("bad")
    start_sink("good", 0)
    start_sink("bad", 0)
    await produce(kafka_bootstrap, names.topic("good"), [*enriched_lines(EVENTS), *INVALID])
    assert await wait_for_count(client, good, EVENTS) == EVENTS
    # Only once the string `plan` is mapped, or the conflicting event could define it.
    await produce(kafka_bootstrap, names.topic("good"), [CONFLICTING])
    await wait_until_consumed(kafka_bootstrap, names.group("good"), names.topic("good"))

    found = await search(
        client,
        good,
        size=0,
        aggs={
            "per_minute": {"date_histogram": {"field": "@timestamp", "fixed_interval": "1m"}},
            "event_names": {"terms": {"field": "event_name"}},
            "mobile": {"terms": {"field": "dvce_ismobile"}},
            "revenue": {"sum": {"field": "tr_total"}},
        },
        query={
            "bool": {
                "filter": [
                    {"term": {"user_ipaddress": "203.0.113.0/24"}},
                    {"geo_distance": {"distance": "10km", "geo_location": "52.52,13.40"}},
                    {"range": {"collector_tstamp": {"gte": "2026-11-22T23:00:00Z"}}},
                ]
            }
        },
    )
    assert found["hits"]["total"]["value"] == EVENTS
    aggregations = found["aggregations"]
    assert sum(bucket["doc_count"] for bucket in aggregations["per_minute"]["buckets"]) == EVENTS
    assert len(aggregations["per_minute"]["buckets"]) == 5
    event_names = {b["key"]: b["doc_count"] for b in aggregations["event_names"]["buckets"]}
    assert event_names == {
        name: EVENTS // len(EVENT_TYPES)
        for name in ("page_view", "page_ping", "event", "link_click", "transaction")
    }
    assert aggregations["revenue"]["value"] > 0

    mapping = (await client.indices.get_mapping(index=good)).body
    (properties,) = [index["mappings"]["properties"] for index in mapping.values()]
    assert {name: properties[name]["type"] for name in ("geo_location", "user_ipaddress")} == {
        "geo_location": "geo_point",
        "user_ipaddress": "ip",
    }
    assert properties["contexts_com_acme_user_1"]["properties"]["plan"]["type"] == "keyword"
    assert properties["unstruct_event_com_snowplowanalytics_snowplow_link_click_1"]

    assert await wait_for_count(client, bad, len(INVALID) + 1) == len(INVALID) + 1
    by_type = await search(
        client, bad, size=10, aggs={"types": {"terms": {"field": "failure_type"}}}
    )
    assert {b["key"]: b["doc_count"] for b in by_type["aggregations"]["types"]["buckets"]} == {
        "loader_parsing_error": 3,
        "loader_runtime_error": 1,
    }
    rows = {hit["_source"]["failure_type"]: hit["_source"] for hit in by_type["hits"]["hits"]}
    refused = rows["loader_runtime_error"]
    assert "[contexts_com_acme_user_1.plan]" in refused["data"]["failure_string"]
    assert refused["data"]["payload"]["event_id"] == CONFLICTING_ID
    assert refused["data"]["payload"]["contexts"] == orjson.loads(
        contexts(("iglu:com.acme/user/jsonschema/1-0-2", {"plan": {"tier": "gold"}}))
    )
    failures = await search(
        client, bad, query={"term": {"failure_type": "loader_parsing_error"}}, size=10
    )
    assert sorted(
        hit["_source"]["data"]["failure"]["type"] for hit in failures["hits"]["hits"]
    ) == [
        "FieldNumberMismatch",
        "NotTSV",
        "RowDecodingError",
    ]


async def test_redelivered_records_leave_the_counts_unchanged(
    names: Names, kafka_bootstrap: str, client: AsyncElasticsearch, start_sink: SinkStarter
) -> None:
    good, bad = names.alias("good"), names.alias("bad")
    await produce(kafka_bootstrap, names.topic("good"), [*enriched_lines(300, seed=7), *INVALID])
    start_sink("good", 0)
    start_sink("bad", 0)
    await wait_until_consumed(kafka_bootstrap, names.group("good", 0), names.topic("good"))
    await wait_until_consumed(kafka_bootstrap, names.group("bad", 0), names.topic("bad"))
    counts = [await wait_for_count(client, good, 300), await wait_for_count(client, bad, 3)]
    assert counts == [300, 3]

    # A new consumer group reads every record again, as after a crash before any commit; its
    # bad rows reach the bad topic a second time, byte for byte the same.
    start_sink("good", 1)
    await wait_until_consumed(kafka_bootstrap, names.group("good", 1), names.topic("good"))
    await wait_until_consumed(kafka_bootstrap, names.group("bad", 0), names.topic("bad"))
    start_sink("bad", 1)
    await wait_until_consumed(kafka_bootstrap, names.group("bad", 1), names.topic("bad"))
    for index in (good, bad):
        await client.indices.refresh(index=index)
    assert [(await client.count(index=index))["count"] for index in (good, bad)] == [300, 3]
