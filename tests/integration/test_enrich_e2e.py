"""The real Python tracker -> collector -> enricher: valid events are on `good` and read by the
Snowplow Analytics SDK; invalid ones are on `bad` with the right schema and message."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import orjson
import pytest
from snowplow_analytics_sdk.event_transformer import transform
from snowplow_tracker import Emitter, PageView, SelfDescribing, SelfDescribingJson, Tracker

from devstack import furrow
from devstack.furrow import Endpoint
from tests.integration.raw import TopicTail

SELF_DESCRIBING = (
    "http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#"
)
CHECKOUT = "iglu:com.acme.e2e/checkout/jsonschema/1-0-0"
USER = "iglu:com.acme.e2e/user/jsonschema/1-0-0"


def schema(name: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "$schema": SELF_DESCRIBING,
        "self": {
            "vendor": "com.acme.e2e",
            "name": name,
            "format": "jsonschema",
            "version": "1-0-0",
        },
        **body,
    }


@pytest.fixture(scope="module")
def registered(furrow_stack: list[Endpoint]) -> None:
    registry = next(e for e in furrow_stack if e.component == "registry")
    key, _ = furrow.super_key()
    schemas = {
        "checkout": schema(
            "checkout",
            {
                "type": "object",
                "properties": {
                    "total": {"type": "number", "minimum": 0},
                    "currency": {"enum": ["EUR", "USD"]},
                },
                "required": ["total"],
                "additionalProperties": False,
            },
        ),
        "user": schema("user", {"type": "object", "properties": {"plan": {"type": "string"}}}),
    }
    for name, body in schemas.items():
        response = httpx.put(
            f"{registry.listens}/schemas/com.acme.e2e/{name}/jsonschema/1-0-0",
            json=body,
            headers={"apikey": key},
        )
        # 409: an earlier run of this test registered the same schema already.
        assert response.status_code in (201, 409), response.text


def ours(values: list[bytes], marker: str) -> list[bytes]:
    return [value for value in values if marker.encode() in value]


async def test_tracker_events_are_enriched_or_bad_with_reasons(
    kafka_bootstrap: str, furrow_stack: list[Endpoint], registered: None
) -> None:
    collector = next(e for e in furrow_stack if e.component == "collector")
    port = int(collector.listens.rsplit(":", 1)[1])
    marker = f"e2e-{uuid.uuid4()}"
    user = SelfDescribingJson(USER, {"plan": "pro"})

    def send() -> None:
        emitter = Emitter("127.0.0.1", protocol="http", port=port, method="post", batch_size=4)
        tracker = Tracker("e2e", emitter, app_id=marker)
        tracker.track(PageView(page_url=f"https://shop.example.com/{marker}", page_title="Home"))
        tracker.track(
            SelfDescribing(
                SelfDescribingJson(CHECKOUT, {"total": 12, "currency": "EUR"}), context=[user]
            )
        )
        tracker.track(SelfDescribing(SelfDescribingJson(CHECKOUT, {"total": -5, "colour": "red"})))
        tracker.track(
            SelfDescribing(SelfDescribingJson("iglu:com.acme.e2e/nothing/jsonschema/1-0-0", {}))
        )
        emitter.flush()

    async with TopicTail(kafka_bootstrap, "good") as good, TopicTail(kafka_bootstrap, "bad") as bad:
        await asyncio.to_thread(send)
        good_lines = ours(
            await good.read(lambda values: len(ours(values, marker)) >= 2, timeout_s=60), marker
        )
        bad_rows = ours(
            await bad.read(lambda values: len(ours(values, marker)) >= 2, timeout_s=60), marker
        )

    events = sorted((transform(line.decode()) for line in good_lines), key=lambda e: e["event"])
    assert [event["event"] for event in events] == ["page_view", "unstruct"]
    page_view, checkout = events
    assert page_view["page_url"] == f"https://shop.example.com/{marker}"
    assert page_view["app_id"] == marker
    assert checkout["unstruct_event_com_acme_e2e_checkout_1"] == {"total": 12, "currency": "EUR"}
    assert checkout["contexts_com_acme_e2e_user_1"] == [{"plan": "pro"}]
    assert checkout["v_tracker"].startswith("py-")
    # The default enrichments of config/enrichments ran.
    assert page_view["event_fingerprint"]
    (user_agent,) = page_view["contexts_com_snowplowanalytics_snowplow_ua_parser_context_1"]
    assert user_agent["useragentFamily"] == "Python Requests"
    assert page_view["user_ipaddress"] == "127.0.0.x"

    documents = [orjson.loads(row) for row in bad_rows]
    assert {d["schema"] for d in documents} == {
        "iglu:com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/2-0-1"
    }
    messages = {
        m["schemaKey"]: m["error"] for d in documents for m in d["data"]["failure"]["messages"]
    }
    invalid = messages[CHECKOUT]
    assert invalid["error"] == "ValidationError"
    assert sorted(report["path"] for report in invalid["dataReports"]) == ["$", "$.total"]
    missing = messages["iglu:com.acme.e2e/nothing/jsonschema/1-0-0"]
    assert missing["error"] == "ResolutionError"
