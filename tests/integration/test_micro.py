"""`furrow micro` as CI runs it: one process, no Kafka, no Elasticsearch; the real Python tracker
sends to it, and the test asks Snowplow Micro's API what arrived, as a suite written for Micro
would."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from snowplow_tracker import (
    Emitter,
    PageView,
    SelfDescribing,
    SelfDescribingJson,
    StructuredEvent,
    Tracker,
)

from devstack.process import unused_port
from tests.integration.console_data import CHECKOUT, CHECKOUT_SCHEMA, write_schemas
from tests.integration.processes import Service, start_service
from tests.integration.test_real_trackers import node_project

__all__ = ["node_project"]

SP = "iglu:com.snowplowanalytics.snowplow"


class Micro:
    def __init__(self, service: Service, port: int, started_s: float) -> None:
        self.service = service
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.started_s = started_s

    def tracker(self, app_id: str) -> Tracker:
        emitter = Emitter("127.0.0.1", protocol="http", port=self.port, method="post", batch_size=1)
        return Tracker("micro-test", emitter, app_id=app_id)

    def get(self, path: str, **params: str | int) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", params=params, timeout=10)

    def post(self, path: str, filters: object) -> httpx.Response:
        return httpx.post(f"{self.url}{path}", content=orjson.dumps(filters), timeout=10)


@pytest.fixture(scope="module")
def micro(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Micro]:
    schemas = write_schemas(tmp_path_factory.mktemp("schemas"))
    port = unused_port()
    started = time.monotonic()
    service = start_service(
        ["micro"],
        {"FURROW_MICRO_PORT": str(port), "FURROW_MICRO_SCHEMA_DIR": str(schemas)},
        health_port=port,
        log=tmp_path_factory.mktemp("logs") / "micro.log",
    )
    # Up means Micro's API answers, not just the collector's health.
    while httpx.get(f"http://127.0.0.1:{port}/micro/all", timeout=2).status_code != 200:
        time.sleep(0.05)
    started_s = time.monotonic() - started
    print(f"furrow micro answered /micro/all {started_s:.2f} s after it was started")
    yield Micro(service, port, started_s)
    service.stop()


def wait_for_total(micro: Micro, total: int) -> dict[str, int]:
    deadline = time.monotonic() + 10
    while (summary := micro.get("/micro/all").json())["total"] < total:
        assert time.monotonic() < deadline, summary
        time.sleep(0.05)
    return summary  # type: ignore[no-any-return]


def test_python_tracker_events_are_counted_filtered_and_reset(micro: Micro) -> None:
    assert micro.get("/micro/reset").json() == {"total": 0, "good": 0, "bad": 0}
    marker = f"micro-{uuid.uuid4()}"
    tracker = micro.tracker(marker)
    user = SelfDescribingJson(
        f"{SP}/geolocation_context/jsonschema/1-1-0", {"latitude": 1.5, "longitude": 2.5}
    )
    tracker.track(PageView(page_url=f"https://shop.example.com/{marker}", context=[user]))
    tracker.track(StructuredEvent(category="shop", action="add", label=marker, value=2))
    tracker.track(SelfDescribing(SelfDescribingJson(CHECKOUT, {"total": 12.5})))
    tracker.track(SelfDescribing(SelfDescribingJson(CHECKOUT, {"total": -1})))
    tracker.track(SelfDescribing(SelfDescribingJson("iglu:com.acme/nowhere/jsonschema/1-0-0", {})))
    tracker.flush()

    assert wait_for_total(micro, 5) == {"total": 5, "good": 3, "bad": 2}

    good = micro.get("/micro/good").json()
    assert [g["eventType"] for g in good] == ["unstruct", "struct", "page_view"]
    assert all(g["event"]["app_id"] == marker for g in good)
    assert all(g["rawEvent"]["parameters"]["aid"] == marker for g in good)
    assert all(g["rawEvent"]["api"]["version"] == "tp2" for g in good)
    [page_view] = micro.post("/micro/good", {"event_type": "page_view"}).json()
    assert page_view["schema"] == f"{SP}/page_view/jsonschema/1-0-0"
    assert f"{SP}/geolocation_context/jsonschema/1-1-0" in page_view["contexts"]
    assert page_view["event"]["page_url"] == f"https://shop.example.com/{marker}"
    [checkout] = micro.post("/micro/good", {"schema": CHECKOUT}).json()
    assert checkout["event"]["unstruct_event"]["data"] == {
        "schema": CHECKOUT,
        "data": {"total": 12.5},
    }
    with_geolocation = {"contexts": [f"{SP}/geolocation_context/jsonschema/1-1-0"]}
    assert len(micro.post("/micro/good", with_geolocation).json()) == 1
    assert len(micro.post("/micro/good", {"limit": 2}).json()) == 2
    assert len(micro.get("/micro/good", event_type="struct").json()) == 1

    bad = micro.get("/micro/bad").json()
    assert len(bad) == 2
    assert all(
        b["collectorPayload"]["api"]["vendor"] == "com.snowplowanalytics.snowplow" for b in bad
    )
    assert all(b["rawEvent"]["parameters"]["aid"] == marker for b in bad)
    assert "$.total" in bad[1]["errors"][0] and "schema_violations" in bad[1]["errors"][0]
    assert "iglu:com.acme/nowhere/jsonschema/1-0-0" in bad[0]["errors"][0]
    assert micro.post("/micro/bad", {"vendor": "com.acme"}).json() == []
    assert len(micro.post("/micro/bad", {"version": "tp2", "limit": 1}).json()) == 1

    assert micro.get("/micro/reset").json() == {"total": 0, "good": 0, "bad": 0}
    assert micro.get("/micro/all").json() == {"total": 0, "good": 0, "bad": 0}


def test_node_tracker_events_are_all_good_in_micro(micro: Micro, node_project: Path) -> None:
    assert micro.get("/micro/reset").json() == {"total": 0, "good": 0, "bad": 0}
    marker = f"micro-node-{uuid.uuid4()}"
    done = subprocess.run(
        ["node", "send_standard_events.mjs", str(micro.port), marker],
        cwd=node_project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    sent = int(done.stdout.strip())
    assert wait_for_total(micro, sent) == {"total": sent, "good": sent, "bad": 0}
    good = micro.get("/micro/good").json()
    assert all(g["event"]["v_tracker"].startswith("node-") for g in good)
    assert {g["rawEvent"]["api"]["version"] for g in good} == {"tp2"}
    assert len(micro.post("/micro/good", {"event_type": "page_view"}).json()) == 1


@pytest.mark.parametrize(
    ("path", "body", "reason"),
    [
        ("/micro/good", {"event_typ": "page_view"}, "unknown filter event_typ"),
        ("/micro/good", {"limit": "ten"}, "limit must be"),
        ("/micro/good", {"schema": {"$regex": ".*"}}, "schema must be a string"),
        ("/micro/bad", {"schema": "x"}, "unknown filter schema"),
        ("/micro/bad", [1, 2], "JSON object"),
    ],
)
def test_malformed_filters_are_refused_with_the_reason(
    micro: Micro, path: str, body: object, reason: str
) -> None:
    answer = micro.post(path, body)
    assert answer.status_code == 400
    assert reason in answer.text


def test_a_body_that_is_not_json_is_refused(micro: Micro) -> None:
    answer = httpx.post(f"{micro.url}/micro/good", content=b"{nope", timeout=10)
    assert answer.status_code == 400
    assert "not JSON" in answer.text


def test_iglu_serves_built_in_and_directory_schemas(micro: Micro) -> None:
    built_in = micro.get("/micro/iglu/com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0")
    assert built_in.status_code == 200
    assert built_in.json()["self"]["name"] == "web_page"
    assert micro.get("/micro/iglu/com.acme/checkout/jsonschema/1-0-0").json() == CHECKOUT_SCHEMA
    missing = micro.get("/micro/iglu/com.acme/nowhere/jsonschema/1-0-0")
    assert missing.status_code == 404
    assert missing.json()["error"] == "ResolutionError"
    assert micro.get("/micro/iglu/com.acme/checkout/jsonschema/1-0").status_code == 400
    assert micro.get("/micro/nothing").status_code == 404


def test_micro_answers_cors_preflights(micro: Micro) -> None:
    answer = httpx.options(
        f"{micro.url}/micro/good",
        headers={"Origin": "http://app.example", "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "http://app.example"


def test_micro_starts_in_seconds(micro: Micro) -> None:
    # Seconds even on a busy machine; the time itself is printed (-s) for the report.
    assert micro.started_s < 20
    assert Path(micro.service.log).exists()
