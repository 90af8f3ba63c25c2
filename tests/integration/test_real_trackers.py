"""Real clients against a fresh Furrow whose registry holds nothing: every event they send by
default or through their standard event types, entities and plugins reaches `good`, resolved
by the schemas built into Furrow (issue 19).

Each test prints the share of its events in `good` (run with `-s` to see it) and fails on any
bad row, showing why it was bad."""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from snowplow_analytics_sdk.event_transformer import transform
from snowplow_tracker import (
    Emitter,
    PagePing,
    PageView,
    ScreenView,
    SelfDescribing,
    SelfDescribingJson,
    StructuredEvent,
    Tracker,
)

from devstack.process import apt_install
from tests.integration.fresh_pipeline import FreshPipeline, Outcome, fresh_pipeline, outcome_of
from tests.integration.processes import JAVA_HOME, build_java_project

NODE_PROJECT = Path(__file__).resolve().parents[1] / "node"
SP = "iglu:com.snowplowanalytics.snowplow"
MOBILE = "iglu:com.snowplowanalytics.mobile"


@pytest.fixture(scope="module")
def pipeline(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FreshPipeline]:
    with fresh_pipeline(kafka_bootstrap, tmp_path_factory.mktemp("fresh-pipeline")) as running:
        yield running


def all_good(outcome: Outcome, client: str) -> list[dict[str, Any]]:
    """The events of `outcome` as the Analytics SDK reads them, once every one is good."""
    print(f"{client}: {len(outcome.good)} of {outcome.sent} in good ({outcome.share_good:.0%})")
    assert outcome.bad == [], "\n".join(outcome.reasons())
    assert outcome.sent > 0
    assert len(outcome.good) == outcome.sent
    return [transform(line) for line in outcome.good]


# -- the Python tracker ---------------------------------------------------------------------------


async def test_python_tracker_standard_events_are_all_good(pipeline: FreshPipeline) -> None:
    marker = f"py-{uuid.uuid4()}"
    geolocation = SelfDescribingJson(
        f"{SP}/geolocation_context/jsonschema/1-1-0", {"latitude": 52.5, "longitude": 13.4}
    )

    def send() -> int:
        emitter = Emitter(
            "127.0.0.1", protocol="http", port=pipeline.collector_port, method="post", batch_size=5
        )
        tracker = Tracker("standard", emitter, app_id=marker)
        url = f"https://shop.example.com/{marker}"
        tracker.track(PageView(page_url=url, page_title="Home", context=[geolocation]))
        tracker.track(PagePing(page_url=url, min_x=0, max_x=10, min_y=0, max_y=400))
        tracker.track(StructuredEvent(category="shop", action="add", label=marker, value=2.5))
        tracker.track(ScreenView(id_=str(uuid.uuid4()), name="home", type="feed"))
        tracker.track(
            SelfDescribing(
                SelfDescribingJson(f"{SP}/consent_withdrawn/jsonschema/1-0-0", {"all": True}),
                context=[
                    SelfDescribingJson(
                        f"{SP}/consent_document/jsonschema/1-0-0", {"id": "t", "version": "2"}
                    )
                ],
            )
        )
        tracker.track_link_click(f"{url}/next", element_id="next", element_classes=["nav"])
        tracker.track_add_to_cart("sku-1", 2, name="Shoe", unit_price=19.99, currency="EUR")
        tracker.track_remove_from_cart("sku-1", 1)
        tracker.track_form_change("signup", "email", "INPUT", "a@example.com", type_="email")
        tracker.track_form_submit(
            "signup",
            elements=[
                {"name": "email", "value": "a@example.com", "nodeName": "INPUT", "type": "email"}
            ],
        )
        tracker.track_site_search(["shoes", "red"], filters={"size": "42"}, total_results=3)
        tracker.track_screen_view("legacy-home", id_="screen-1")
        tracker.track_mobile_screen_view("home", id_=str(uuid.uuid4()))
        tracker.track_ecommerce_transaction(
            marker,
            39.98,
            currency="EUR",
            items=[
                {"sku": "sku-1", "price": 19.99, "quantity": 1},
                {"sku": "sku-2", "price": 19.99, "quantity": 1},
            ],
        )
        emitter.flush()
        # A transaction is sent as itself and one event per item.
        return 16

    events = all_good(await outcome_of(pipeline, marker, send), "Python tracker")
    kinds = sorted({event["event"] for event in events})
    assert kinds == [
        "page_ping",
        "page_view",
        "struct",
        "transaction",
        "transaction_item",
        "unstruct",
    ]


async def test_an_event_that_breaks_a_builtin_schema_is_a_schema_violation(
    pipeline: FreshPipeline,
) -> None:
    marker = f"broken-{uuid.uuid4()}"

    def send() -> int:
        emitter = Emitter("127.0.0.1", protocol="http", port=pipeline.collector_port)
        tracker = Tracker("broken", emitter, app_id=marker)
        link_click = SelfDescribingJson(f"{SP}/link_click/jsonschema/1-0-1", {"targetUrl": ""})
        tracker.track(SelfDescribing(link_click))
        emitter.flush()
        return 1

    outcome = await outcome_of(pipeline, marker, send)
    assert outcome.good == []
    (row,) = outcome.bad
    assert row["schema"] == (
        "iglu:com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/2-0-1"
    )
    (message,) = row["data"]["failure"]["messages"]
    assert message["schemaKey"] == f"{SP}/link_click/jsonschema/1-0-1"
    assert [report["path"] for report in message["error"]["dataReports"]] == ["$.targetUrl"]


# -- the Node tracker -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def node_project() -> Path:
    """tests/node with its packages installed from the lock file."""
    npm = shutil.which("npm")
    assert npm, "npm is needed for the Node and browser tracker tests"
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_PROJECT, check=True)
    return NODE_PROJECT


async def test_node_tracker_standard_events_are_all_good(
    pipeline: FreshPipeline, node_project: Path
) -> None:
    marker = f"node-{uuid.uuid4()}"

    def send() -> int:
        script = ["node", "send_standard_events.mjs", str(pipeline.collector_port), marker]
        done = subprocess.run(script, cwd=node_project, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        return int(done.stdout.strip())

    events = all_good(await outcome_of(pipeline, marker, send), "Node tracker")
    assert len(events) == 20
    assert all(event["v_tracker"].startswith("node-") for event in events)


# -- the browser tracker and its plugins, in headless Chromium ---------------------------------


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's Chromium, installed on first use as the PostgreSQL fixture installs its server."""
    if not shutil.which("chromium"):
        apt_install("chromium")
    found = shutil.which("chromium")
    assert found, "apt-get install chromium did not put chromium on the PATH"
    return found


def in_chromium(node_project: Path, chromium: str, script: str, *arguments: str) -> str:
    """The last line a script of tests/node printed, having driven `chromium` to success."""
    done = subprocess.run(
        ["node", script, *arguments],
        cwd=node_project,
        env={**os.environ, "CHROMIUM": chromium},
        capture_output=True,
        text=True,
        check=False,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


async def test_browser_tracker_and_plugins_in_chromium_are_all_good(
    pipeline: FreshPipeline, node_project: Path, chromium: str
) -> None:
    marker = f"web-{uuid.uuid4()}"

    def send() -> int:
        # The number of events the collector accepted, as the tracker counted them.
        return int(
            in_chromium(node_project, chromium, "browser_events.mjs", pipeline.collector, marker)
        )

    events = all_good(await outcome_of(pipeline, marker, send), "browser tracker")
    kinds = {event["event_name"] for event in events}
    assert kinds >= {
        "page_view",
        "page_ping",
        "link_click",
        "focus_form",
        "change_form",
        "submit_form",
        "button_click",
        "site_search",
        "social_interaction",
        "timing",
        "application_error",
        "snowplow_ecommerce_action",
        "ready_event",
        "play_event",
        "pause_event",
        "end_event",
        "ad_quartile_event",
        "ad_skip_event",
        "quality_change_event",
        "error_event",
        "action",
        "screen_view",
        "screen_end",
    }
    entities = {key.removeprefix("contexts_") for event in events for key in event}
    assert entities >= {
        "com_snowplowanalytics_snowplow_web_page_1",
        "com_snowplowanalytics_snowplow_client_session_1",
        "com_snowplowanalytics_snowplow_browser_context_2",
        "org_w3_performance_timing_1",
        "org_w3_performance_navigation_timing_1",
        "org_ietf_http_client_hints_1",
        "com_snowplowanalytics_snowplow_ecommerce_product_1",
        "com_snowplowanalytics_snowplow_ecommerce_transaction_1",
        "com_snowplowanalytics_snowplow_media_player_2",
        "com_snowplowanalytics_snowplow_media_session_1",
        "com_snowplowanalytics_snowplow_media_ad_1",
        "com_snowplowanalytics_snowplow_media_ad_break_1",
        "com_google_ga4_cookies_1",
        "com_google_analytics_enhanced-ecommerce_product_field_object_1",
        "com_google_analytics_enhanced-ecommerce_action_field_object_1",
        "com_snowplowanalytics_mobile_screen_1",
        "com_snowplowanalytics_mobile_screen_summary_1",
    }


# -- the Java tracker -----------------------------------------------------------------------------


async def test_java_tracker_events_are_all_good(pipeline: FreshPipeline, tmp_path: Path) -> None:
    marker = f"java-{uuid.uuid4()}"
    classpath = await asyncio.to_thread(build_java_project, "tracker-app", tmp_path)

    def send() -> int:
        done = subprocess.run(
            [
                str(JAVA_HOME / "bin" / "java"),
                "-cp",
                ":".join(classpath),
                "dev.furrow.tests.SendEvents",
                pipeline.collector,
                marker,
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return int(done.stdout.strip().splitlines()[-1])

    events = all_good(await outcome_of(pipeline, marker, send), "Java tracker")
    assert len(events) == 7
    assert all(event["v_tracker"].startswith("java-") for event in events)


# -- payloads shaped as the mobile trackers send them ---------------------------------------------


def mobile_event(marker: str, event: dict[str, Any], platform: str) -> dict[str, str]:
    """One tracker-protocol event as the Android (v6) and iOS trackers send it by default:
    session, platform, application, screen and lifecycle entities on every event."""
    now = int(time.time() * 1000)
    android = platform == "android"
    entities = [
        {
            "schema": f"{SP}/mobile_context/jsonschema/1-0-3",
            "data": {
                "osType": "android" if android else "ios",
                "osVersion": "14" if android else "17.4",
                "deviceManufacturer": "Google" if android else "Apple",
                "deviceModel": "Pixel 8" if android else "iPhone15,2",
                "carrier": None,
                "networkType": "wifi",
                "networkTechnology": None,
                "androidIdfa": str(uuid.uuid4()) if android else None,
                "appleIdfv": None if android else str(uuid.uuid4()),
                "physicalMemory": 8_000_000_000,
                "systemAvailableMemory": 2_000_000_000 if android else None,
                "appAvailableMemory": None if android else 1_500_000_000,
                "batteryLevel": 71,
                "batteryState": "unplugged",
                "lowPowerMode": None if android else False,
                "availableStorage": 30_000_000_000,
                "totalStorage": 128_000_000_000,
                "isPortrait": True,
                "resolution": "1080x2400",
                "scale": 2.625,
                "language": "en",
                "appSetId": str(uuid.uuid4()) if android else None,
                "appSetIdScope": "developer" if android else None,
            },
        },
        {
            "schema": f"{SP}/client_session/jsonschema/1-0-2",
            "data": {
                "userId": str(uuid.uuid4()),
                "sessionId": str(uuid.uuid4()),
                "sessionIndex": 4,
                "eventIndex": 12,
                "previousSessionId": str(uuid.uuid4()),
                "storageMechanism": "SQLITE" if android else "LOCAL_STORAGE",
                "firstEventId": str(uuid.uuid4()),
                "firstEventTimestamp": "2026-12-03T08:00:00.000Z",
            },
        },
        {
            "schema": f"{MOBILE}/application/jsonschema/1-0-0",
            "data": {"name": marker, "version": "2.3.1", "build": "231"},
        },
        {
            "schema": f"{MOBILE}/screen/jsonschema/1-0-0",
            "data": {"name": "Home", "id": str(uuid.uuid4()), "type": "feed", "activity": "Main"}
            if android
            else {"name": "Home", "id": str(uuid.uuid4()), "viewController": "HomeViewController"},
        },
        {
            "schema": f"{MOBILE}/application_lifecycle/jsonschema/1-0-0",
            "data": {"isVisible": True, "index": 1},
        },
        {
            "schema": f"{MOBILE}/screen_summary/jsonschema/1-0-0",
            "data": {
                "foreground_sec": 12.5,
                "background_sec": 0,
                "last_item_index": 3,
                "items_count": 40,
            },
        },
    ]
    return {
        "e": "ue",
        "p": "mob",
        "tv": "andr-6.0.0" if android else "ios-6.0.0",
        "tna": "appTracker",
        "aid": marker,
        "eid": str(uuid.uuid4()),
        "dtm": str(now),
        "stm": str(now),
        "res": "1080x2400",
        "lang": "en",
        "tz": "Europe/Berlin",
        "uid": "user-1",
        "ue_px": base64.urlsafe_b64encode(
            orjson.dumps({"schema": f"{SP}/unstruct_event/jsonschema/1-0-0", "data": event})
        ).decode(),
        "cx": base64.urlsafe_b64encode(
            orjson.dumps({"schema": f"{SP}/contexts/jsonschema/1-0-1", "data": entities})
        ).decode(),
    }


def mobile_events(marker: str) -> list[dict[str, Any]]:
    """The events the mobile trackers track automatically or through their standard types."""
    return [
        {
            "schema": f"{MOBILE}/screen_view/jsonschema/1-0-0",
            "data": {
                "name": "Home",
                "id": str(uuid.uuid4()),
                "type": "feed",
                "previousName": "Splash",
                "previousId": str(uuid.uuid4()),
                "transitionType": "push",
            },
        },
        {"schema": f"{MOBILE}/application_install/jsonschema/1-0-0", "data": {}},
        {"schema": f"{MOBILE}/screen_end/jsonschema/1-0-0", "data": {}},
        {
            "schema": f"{MOBILE}/list_item_view/jsonschema/1-0-0",
            "data": {"index": 3, "items_count": 40},
        },
        {
            "schema": f"{MOBILE}/scroll_changed/jsonschema/1-0-0",
            "data": {"y_offset": 640, "view_height": 800, "content_height": 4000},
        },
        {
            "schema": f"{MOBILE}/message_notification/jsonschema/1-0-0",
            "data": {
                "title": "Sale",
                "body": "Shoes are 20% off",
                "trigger": "push",
                "sound": None,
            },
        },
        {"schema": f"{SP}/application_foreground/jsonschema/1-0-0", "data": {"foregroundIndex": 2}},
        {"schema": f"{SP}/application_background/jsonschema/1-0-0", "data": {"backgroundIndex": 1}},
        {
            "schema": f"{SP}/application_error/jsonschema/1-0-2",
            "data": {
                "programmingLanguage": "KOTLIN",
                "message": "boom",
                "threadName": "main",
                "threadId": 1,
                "stackTrace": "java.lang.IllegalStateException: boom",
                "className": "Main",
                "exceptionName": "IllegalStateException",
                "isFatal": True,
                "lineNumber": 42,
            },
        },
        {
            "schema": f"{MOBILE}/deep_link_received/jsonschema/1-0-0",
            "data": {"url": f"https://app.example.com/{marker}", "referrer": "https://ads.example"},
        },
        {
            "schema": f"{SP}/timing/jsonschema/1-0-0",
            "data": {"category": "load", "variable": "feed", "timing": 120},
        },
    ]


async def test_mobile_shaped_payloads_are_all_good(pipeline: FreshPipeline) -> None:
    marker = f"mob-{uuid.uuid4()}"
    batch = [
        mobile_event(marker, event, platform)
        for platform in ("android", "ios")
        for event in mobile_events(marker)
    ]

    def send() -> int:
        answer = httpx.post(
            f"{pipeline.collector}/com.snowplowanalytics.snowplow/tp2",
            json={"schema": f"{SP}/payload_data/jsonschema/1-0-4", "data": batch},
        )
        assert answer.status_code == 200, answer.text
        return len(batch)

    events = all_good(await outcome_of(pipeline, marker, send), "mobile")
    assert {event["platform"] for event in events} == {"mob"}
    assert all(
        event["contexts_com_snowplowanalytics_snowplow_mobile_context_1"] for event in events
    )


# -- Sunbird/DIGIT telemetry ----------------------------------------------------------------------


def telemetry(eid: str, marker: str, edata: dict[str, Any]) -> dict[str, Any]:
    return {
        "eid": eid,
        "ets": int(time.time() * 1000),
        "ver": "3.0",
        "mid": f"{eid}:{uuid.uuid4()}",
        "actor": {"id": "user-1", "type": "User"},
        "context": {
            "channel": marker,
            "pdata": {"id": "dev.digit.portal", "ver": "1.0", "pid": "portal"},
            "env": "home",
            "sid": str(uuid.uuid4()),
            "did": str(uuid.uuid4()),
            "cdata": [{"id": "batch-1", "type": "Batch"}],
            "rollup": {"l1": marker},
        },
        "object": {"id": "course-1", "type": "Course", "ver": "1", "rollup": {"l1": "course-1"}},
        "tags": ["digit"],
        "edata": edata,
    }


async def test_a_digit_start_summary_end_batch_is_all_good(pipeline: FreshPipeline) -> None:
    marker = f"digit-{uuid.uuid4()}"
    started = int(time.time() * 1000) - 60_000
    events = [
        telemetry(
            "START", marker, {"type": "app", "mode": "play", "duration": 1.2, "pageid": "home"}
        ),
        telemetry(
            "SUMMARY",
            marker,
            {
                "type": "session",
                "mode": "play",
                "starttime": started,
                "endtime": started + 60_000,
                "timespent": 60,
                "pageviews": 3,
                "interactions": 7,
            },
        ),
        telemetry("END", marker, {"type": "app", "mode": "play", "duration": 60, "pageid": "home"}),
    ]

    def send() -> int:
        answer = httpx.post(
            f"{pipeline.collector}/v1/telemetry",
            json={
                "id": "api.sunbird.telemetry",
                "ver": "3.0",
                "params": {"msgid": str(uuid.uuid4())},
                "events": events,
            },
        )
        assert answer.status_code == 200, answer.text
        return len(events)

    enriched = all_good(await outcome_of(pipeline, marker, send), "DIGIT")
    names = sorted(key for event in enriched for key in event if key.startswith("unstruct_event_"))
    assert names == [
        "unstruct_event_org_sunbird_telemetry_end_1",
        "unstruct_event_org_sunbird_telemetry_start_1",
        "unstruct_event_org_sunbird_telemetry_summary_1",
    ]
