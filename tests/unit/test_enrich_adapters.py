from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest

from libs.formats.collector_payload import CollectorPayload
from services.enrich.adapters import adapt, parse_query

TP2 = "/com.snowplowanalytics.snowplow/tp2"
PAYLOAD_DATA = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4"


def payload(
    path: str, query: str | None = None, body: Any = None, content_type: str | None = None
) -> CollectorPayload:
    if body is not None and not isinstance(body, bytes):
        body = orjson.dumps(body)
        content_type = content_type or "application/json"
    return CollectorPayload(
        ip_address="1.2.3.4",
        timestamp_ms=1,
        collector="c",
        path=path,
        querystring=query,
        body=body,
        content_type=content_type,
    )


def no_problems(instance: dict[str, Any]) -> list[str]:
    return []


def run(p: CollectorPayload, check: Any = no_problems):  # type: ignore[no-untyped-def]
    return adapt(p, check, telemetry_vendor="org.sunbird.telemetry")


@pytest.mark.parametrize(
    ("query", "expected", "problems"),
    [
        ("e=pv&aid=shop", {"e": "pv", "aid": "shop"}, 0),
        ("url=https%3A%2F%2Fx%2F%3Fa%3Db&page=A+B", {"url": "https://x/?a=b", "page": "A B"}, 0),
        ("e=pv&&x", {"e": "pv", "x": ""}, 0),
        ("e=%E9t%E9", {}, 1),
        ("e=%ZZ&aid=shop", {"aid": "shop"}, 1),
        ("e=pv&aid=%", {"e": "pv"}, 1),
        ("", {}, 0),
    ],
)
def test_query_strings(query: str, expected: dict[str, str], problems: int) -> None:
    found: list[dict[str, str]] = []
    assert parse_query(query, found, "querystring") == expected
    assert len(found) == problems


def test_a_pixel_request_is_one_event() -> None:
    adapted = run(payload("/i", "e=pv&p=web&tv=t"))
    assert (adapted.vendor, adapted.version) == ("com.snowplowanalytics.snowplow", "tp1")
    (event,) = adapted.events
    assert event.parameters == {"e": "pv", "p": "web", "tv": "t"}


def test_a_post_batch_is_one_event_per_element_with_query_parameters_merged() -> None:
    body = {"schema": PAYLOAD_DATA, "data": [{"e": "pv", "aid": "own"}, {"e": "se"}]}
    adapted = run(payload(TP2, "aid=shared&p=web", body))
    # The query string's parameters win, as in Snowplow (SnowplowAdapterSpec e5).
    assert [e.parameters for e in adapted.events] == [
        {"aid": "shared", "p": "web", "e": "pv"},
        {"aid": "shared", "p": "web", "e": "se"},
    ]


@pytest.mark.parametrize(
    ("body", "content_type", "field"),
    [
        (b"{not json", "application/json", "body"),
        (b"\x1f\x8b\x08gzip-garbage", "application/json", "body"),
        (b"\xff\xfe", "application/json", "body"),
        ({"schema": "iglu:com.acme/other/jsonschema/1-0-0", "data": []}, None, "body"),
        ([1, 2], None, "body"),
        ({"schema": PAYLOAD_DATA, "data": []}, "text/plain", "contentType"),
        # Found by tests/fuzz: a JSON null body was taken for unreadable and became no output.
        (b"null", "application/json", "body"),
    ],
)
def test_broken_post_bodies_are_protocol_violations(
    body: Any, content_type: str | None, field: str
) -> None:
    adapted = run(payload(TP2, None, body, content_type))
    assert adapted.events == []
    assert [v["field"] for v in adapted.protocol_violations] == [field]


def test_payload_data_is_checked_against_its_schema() -> None:
    body = {"schema": PAYLOAD_DATA, "data": [{"e": 1}]}
    adapted = run(
        payload(TP2, None, body), check=lambda instance: ["$.data[0].e: 1 is not of type string"]
    )
    assert adapted.events == []
    assert adapted.protocol_violations[0]["expectation"] == "$.data[0].e: 1 is not of type string"


def test_a_pixel_without_parameters_is_a_violation() -> None:
    assert run(payload("/i")).protocol_violations[0]["field"] == "querystring"


def test_a_malformed_query_string_is_a_violation() -> None:
    adapted = run(payload("/i", "e=pv&url=%ZZ"))
    assert adapted.events == []
    assert adapted.protocol_violations[0]["expectation"] == "valid %-encoding"


@pytest.mark.parametrize("path", ["/com.acme/v9", "/a/b", "/nothing"])
def test_unknown_vendors_are_adapter_failures(path: str) -> None:
    adapted = run(payload(path, "e=pv"))
    assert adapted.events == []
    assert adapted.adapter_failures[0]["field"] == "path"


def test_the_redirect_becomes_a_uri_redirect_event() -> None:
    (event,) = run(payload("/r/tp2", "u=https%3A%2F%2Facme.com%2F&aid=shop")).events
    assert event.parameters["e"] == "ue"
    assert event.parameters["aid"] == "shop"
    assert orjson.loads(event.parameters["ue_pr"])["data"] == {
        "schema": "iglu:com.snowplowanalytics.snowplow/uri_redirect/jsonschema/1-0-0",
        "data": {"uri": "https://acme.com/"},
    }


@pytest.mark.parametrize(
    ("query", "body", "content_type", "data"),
    [
        (
            "schema=iglu%3Acom.acme%2Fsignup%2Fjsonschema%2F1-0-0&plan=pro",
            None,
            None,
            {"plan": "pro"},
        ),
        (
            None,
            {"schema": "iglu:com.acme/signup/jsonschema/1-0-0", "data": {"plan": "pro"}},
            None,
            {"plan": "pro"},
        ),
        (
            "schema=iglu%3Acom.acme%2Fsignup%2Fjsonschema%2F1-0-0",
            {"plan": "pro"},
            None,
            {"plan": "pro"},
        ),
        (
            "schema=iglu%3Acom.acme%2Fsignup%2Fjsonschema%2F1-0-0",
            b"plan=pro",
            "application/x-www-form-urlencoded",
            {"plan": "pro"},
        ),
    ],
)
def test_the_iglu_webhook(
    query: str | None, body: Any, content_type: str | None, data: dict[str, str]
) -> None:
    (event,) = run(payload("/com.snowplowanalytics.iglu/v1", query, body, content_type)).events
    assert event.parameters["e"] == "ue"
    inner = orjson.loads(event.parameters["ue_pr"])["data"]
    assert inner == {"schema": "iglu:com.acme/signup/jsonschema/1-0-0", "data": data}


def test_the_iglu_webhook_needs_a_schema() -> None:
    adapted = run(payload("/com.snowplowanalytics.iglu/v1", "plan=pro"))
    assert adapted.adapter_failures[0]["field"] == "schema"


def test_an_iglu_webhook_body_of_json_null_is_an_adapter_failure() -> None:
    # Found by tests/fuzz: the request became no event and no failure, lost without a trace.
    path = "/com.snowplowanalytics.iglu/v1"
    adapted = run(
        payload(path, "schema=iglu:com.acme/x/jsonschema/1-0-0", b"null", "application/json")
    )
    assert (adapted.events, [f["field"] for f in adapted.adapter_failures]) == ([], ["body"])


TELEMETRY = {
    "id": "api.sunbird.telemetry",
    "ver": "3.0",
    "params": {"msgid": "batch-7"},
    "events": [
        {"eid": "START", "ets": 1795000000000, "mid": "START:1", "actor": {"id": "u1"}},
        {"eid": "INTERACT", "ets": 1795000000500, "mid": "INTERACT:2", "edata": {"id": "b"}},
    ],
}


def test_telemetry_batches_become_one_event_each() -> None:
    adapted = run(payload("/v1/telemetry", None, TELEMETRY))
    assert adapted.adapter_failures == []
    first, second = adapted.events
    inner = orjson.loads(first.parameters["ue_pr"])["data"]
    assert inner == {
        "schema": "iglu:org.sunbird.telemetry/start/jsonschema/1-0-0",
        "data": TELEMETRY["events"][0],
    }
    assert orjson.loads(second.parameters["ue_pr"])["data"]["schema"].endswith(
        "/interact/jsonschema/1-0-0"
    )
    assert first.parameters["dtm"] == "1795000000000"
    assert first.parameters["eid"] == str(
        uuid.uuid5(uuid.NAMESPACE_URL, "org.sunbird.telemetry/START:1")
    )
    (context,) = orjson.loads(first.parameters["co"])["data"]
    assert context == {
        "schema": "iglu:org.sunbird.telemetry/telemetry_batch/jsonschema/1-0-0",
        "data": {"id": "api.sunbird.telemetry", "ver": "3.0", "msgid": "batch-7"},
    }


@pytest.mark.parametrize(
    "body",
    [
        {"id": "x"},
        {"events": []},
        {"events": [{"no": "eid"}]},
        {"events": [{"eid": "../x"}]},
        b"nope",
        b"null",
    ],
)
def test_broken_telemetry_is_an_adapter_failure(body: Any) -> None:
    adapted = run(payload("/v1/telemetry", None, body, "application/json"))
    assert adapted.events == []
    assert adapted.adapter_failures
