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

from devstack.process import REPO_ROOT, unused_port
from tests.integration.console_data import CHECKOUT, CHECKOUT_SCHEMA, write_schemas
from tests.integration.processes import Service, start_service
from tests.integration.test_real_trackers import chromium, in_chromium, node_project

__all__ = ["chromium", "node_project"]

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


def sent_for_the_console(micro: Micro) -> tuple[str, dict[str, int]]:
    """A new app's events, sent by the real tracker: 2 page views, 1 checkout (good); 3
    checkouts with a negative total, 1 of a schema nobody has (bad). Its app id, and what
    /micro/all counted before."""
    before = micro.get("/micro/all").json()
    marker = f"console-{uuid.uuid4()}"
    tracker = micro.tracker(marker)
    for page in ("home", "cart"):
        tracker.track(PageView(page_url=f"https://shop.example.com/{page}"))
    tracker.track(SelfDescribing(SelfDescribingJson(CHECKOUT, {"total": 12.5})))
    for total in (-1, -2, -3):
        tracker.track(SelfDescribing(SelfDescribingJson(CHECKOUT, {"total": total})))
    tracker.track(SelfDescribing(SelfDescribingJson("iglu:com.acme/nowhere/jsonschema/1-0-0", {})))
    tracker.flush()
    wait_for_total(micro, before["total"] + 7)
    return marker, before


def test_the_console_pages_under_micro_ui_show_what_the_tracker_sent(micro: Micro) -> None:
    marker, _ = sent_for_the_console(micro)
    ui = "/micro/ui"
    events = micro.get(f"{ui}/api/events", last="1h", app_id=marker).json()
    assert events["totals"] == {"good": 3, "bad": 4}
    assert sum(count for _, count in events["histogram"]["good"]) == 3
    assert {row["what"] for row in events["rows"] if row["kind"] == "good"} == {
        "page_view",
        "checkout",
    }
    narrowed = micro.get(f"{ui}/api/events", last="1h", app_id=marker, event_name="page_view")
    assert narrowed.json()["totals"] == {"good": 2, "bad": 0}

    groups = micro.get(f"{ui}/api/bad-groups", last="1h", app_id=marker).json()["groups"]
    assert [(g["failure_type"], g["schema"], g["count"]) for g in groups] == [
        ("schema_violations", CHECKOUT, 3),
        ("schema_violations", "iglu:com.acme/nowhere/jsonschema/1-0-0", 1),
    ]
    # Nothing to replay from: micro has no `bad` topic.
    assert [g["replay"] for g in groups] == [None, None]

    good_id = next(row["event_id"] for row in events["rows"] if row["kind"] == "good")
    bad_id = groups[0]["examples"][0]["data"]["payload"]["enriched"]["event_id"]
    for event_id, status in ((good_id, "good"), (bad_id, "bad"), (str(uuid.uuid4()), "not seen")):
        assert micro.get(f"{ui}/api/lookup", event_id=event_id).json()["status"] == status

    counts = micro.get(f"{ui}/api/counts", last="1h", bucket="1h", by="app_id").json()
    assert sum(bucket["counts"].get(marker, 0) for bucket in counts["buckets"]) == 3

    schemas = micro.get(f"{ui}/api/schemas", last="1h").json()["schemas"]
    [checkout] = [s for s in schemas if (s["vendor"], s["name"]) == ("com.acme", "checkout")]
    [version] = checkout["versions"]
    assert version["sources"] == ["schema directory"]
    assert version["good"] >= 1 and version["bad"] >= 3
    assert any(s["name"] == "web_page" for s in schemas)


@pytest.mark.parametrize(
    ("path", "params", "status", "reason"),
    [
        ("/micro/ui/api/pipeline", {}, 404, "no Kafka"),
        ("/micro/ui/api/logs", {}, 404, "no logs index"),
        ("/micro/ui/pipeline", {}, 404, "no Kafka"),
        ("/micro/ui/api/events", {"last": "1y"}, 400, "last must be"),
        ("/micro/ui/api/events", {"colour": "red"}, 400, "unknown parameter 'colour'"),
        ("/micro/ui/api/counts", {"by": "price"}, 400, "by must be one of"),
        ("/micro/ui/api/tail", {"kind": "both"}, 400, "kind must be"),
    ],
)
def test_the_micro_console_refuses_what_it_cannot_answer_with_the_reason(
    micro: Micro, path: str, params: dict[str, str], status: int, reason: str
) -> None:
    answer = micro.get(path, **params)
    assert answer.status_code == status
    assert reason in answer.text


@pytest.mark.parametrize("injection", ['"} OR 1=1', '{"match_all": {}}', "*", "doc['x'].value"])
def test_injection_strings_match_nothing_in_the_micro_console(micro: Micro, injection: str) -> None:
    for name in ("app_id", "q", "user_id"):
        answer = micro.get("/micro/ui/api/events", last="1h", **{name: injection}).json()
        assert answer["totals"] == {"good": 0, "bad": 0}


def test_each_micro_console_view_loads_in_chromium(
    micro: Micro, node_project: Path, chromium: str
) -> None:
    marker, _ = sent_for_the_console(micro)
    tail_id = str(uuid.uuid4())
    screenshots = REPO_ROOT / "build" / "micro"
    screenshots.mkdir(parents=True, exist_ok=True)
    query = {"app_id": marker, "tail_id": tail_id, "collector": micro.url}
    arguments = (f"{micro.url}/micro/ui", str(screenshots), orjson.dumps(query).decode())
    seen = orjson.loads(in_chromium(node_project, chromium, "tracked_views.mjs", *arguments))
    print(orjson.dumps(seen, option=orjson.OPT_INDENT_2).decode())
    assert {name: view["problems"] for name, view in seen.items()} == {name: [] for name in seen}
    # Newest first, after the 7 sent just before the page opened (a tail looks back 30 s).
    assert seen["tail"]["shown"][0] == tail_id
    assert len(seen["tail"]["shown"]) == 8
    assert seen["lookup"]["status"] == "good"
    assert seen["events"]["rows"] == 8  # the 7 sent, and the live tail's
    assert seen["events-good"]["rows"] == 4
    assert [group[:2] for group in seen["bad"]["groups"]] == [
        ["3", "schema_violations"],
        ["1", "schema_violations"],
    ]
    assert seen["schemas"]["directory"] == 1
    assert seen["events"]["nav"] == [
        "Events",
        "Lookup",
        "Bad rows",
        "Live tail",
        "Schemas",
        "Counts API",
        "Micro API",
    ]
    assert sorted(path.name for path in screenshots.glob("*.png")) == sorted(
        f"{name}.png" for name in seen
    )
