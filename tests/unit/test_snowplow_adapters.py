"""Snowplow's vectors for the adapters Furrow implements: the tracker protocol (tp1, tp2), the
redirect and the Iglu webhook. A request gives events (compared parameter by parameter, JSON
parameters as JSON) or failures; failures are compared by kind (adapter failure or tracker
protocol violation) and field, as their messages are Furrow's own words except where noted."""

from __future__ import annotations

import base64
import contextlib
from typing import Any
from urllib.parse import quote

import jsonschema
import orjson
import pytest

from libs.formats.collector_payload import CollectorPayload
from libs.iglu_repositories import BUILTIN_SCHEMAS
from services.enrich.adapters import adapt
from tests.unit.snowplow_vectors import Case, cases

SNOWPLOW = "adapters/registry/snowplow/SnowplowAdapterSpec.scala"
IGLU = "adapters/registry/IgluAdapterSpec.scala"
TP1 = "/i"
TP2 = "/com.snowplowanalytics.snowplow/tp2"
REDIRECT = "/r/tp2"
WEBHOOK = "/com.snowplowanalytics.iglu/v1"
BUILTIN = BUILTIN_SCHEMAS
UNSTRUCT = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"
URI_REDIRECT = "iglu:com.snowplowanalytics.snowplow/uri_redirect/jsonschema/1-0-0"
JSON_PARAMETERS = ("ue_pr", "co")


def self_describing(data: str, name: str) -> bytes:
    schema = f"iglu:com.snowplowanalytics.snowplow/{name}/jsonschema/1-0-0"
    return f'{{"schema":"{schema}","data":{data}}}'.encode()


def payload_data_check(instance: dict[str, Any]) -> list[str]:
    """Validates a payload_data body against the schema Furrow ships, as the registry would."""
    schema = orjson.loads(
        (BUILTIN / "com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4").read_bytes()
    )
    return [
        error.message for error in jsonschema.Draft4Validator(schema).iter_errors(instance["data"])
    ]


def no_check(instance: dict[str, Any]) -> list[str]:
    return []


def outcome(
    path: str,
    query: str | None,
    content_type: str | None,
    body: bytes | None,
    validated: bool = False,
) -> Any:
    """The events' parameters (JSON parameters parsed), or (kind of failure, fields failing).

    The body is validated against payload_data only for the cases about that validation
    (e10), as the spec's schema (1-0-0) is looser than the one Furrow ships (e5 sends `p=1`)."""
    request = CollectorPayload(
        ip_address="37.157.33.123",
        timestamp_ms=1_377_735_528_000,
        collector="clj-tomcat",
        path=path,
        querystring=query,
        content_type=content_type,
        body=body,
    )
    check = payload_data_check if validated else no_check
    adapted = adapt(request, check, telemetry_vendor="org.sunbird.telemetry")
    # Fields in order, each once: how many errors a schema gives depends on its version.
    if adapted.adapter_failures:
        return (
            "adapter failure",
            list(dict.fromkeys(f["field"] for f in adapted.adapter_failures)),
        )
    if adapted.protocol_violations:
        fields = dict.fromkeys(v["field"] for v in adapted.protocol_violations)
        return ("protocol violation", list(fields))
    return [_readable(event.parameters) for event in adapted.events]


def _readable(parameters: dict[str, str]) -> dict[str, Any]:
    readable: dict[str, Any] = dict(parameters)
    for name in JSON_PARAMETERS:
        if name in readable:
            readable[name] = orjson.loads(readable[name])
    if "cx" in readable:
        padded = readable["cx"] + "=" * (-len(readable["cx"]) % 4)
        # Snowplow's e11 sends base64 of plain text: kept as sent, as it is not contexts.
        with contextlib.suppress(ValueError):
            readable["cx"] = orjson.loads(base64.urlsafe_b64decode(padded))
    return readable


def unstruct(schema: str, data: Any) -> dict[str, Any]:
    return {"schema": UNSTRUCT, "data": {"schema": schema, "data": data}}


REDIRECT_TARGET = {"schema": URI_REDIRECT, "data": {"uri": "https://github.com/snowplow/snowplow"}}
MOBILE_AND_GEO = {
    "data": [
        {
            "data": {
                "osType": "OSX",
                "appleIdfv": "some_appleIdfv",
                "openIdfa": "some_Idfa",
                "carrier": "some_carrier",
                "deviceModel": "large",
                "osVersion": "3.0.0",
                "appleIdfa": "some_appleIdfa",
                "androidIdfa": "some_androidIdfa",
                "deviceManufacturer": "Amstrad",
            },
            "schema": "iglu:com.snowplowanalytics.snowplow/mobile_context/jsonschema/1-0-0",
        },
        {
            "data": {
                "longitude": 10,
                "bearing": 50,
                "speed": 16,
                "altitude": 20,
                "altitudeAccuracy": 0.3,
                "latitudeLongitudeAccuracy": 0.5,
                "latitude": 7,
            },
            "schema": "iglu:com.snowplowanalytics.snowplow/geolocation_context/jsonschema/1-0-0",
        },
    ],
    "schema": "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0",
}
WITH_REDIRECT = {**MOBILE_AND_GEO, "data": [REDIRECT_TARGET, *MOBILE_AND_GEO["data"]]}
NEW_CONTEXTS = {
    "schema": "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1",
    "data": [REDIRECT_TARGET],
}
JSON = "application/json"
PAYLOAD_BATCH = self_describing('[{"tv":"ios-0.1.0","p":"mob","e":"se"}]', "payload_data")
THREE = self_describing(
    '[{"tv":"1","p":"1","e":"1"},{"tv":"2","p":"2","e":"2"},{"tv":"3","p":"3","e":"3"}]',
    "payload_data",
)
COMPLETE_BODY = "Furrow reads a body it is given even when its content type is missing: "

SNOWPLOW_CASES = [
    Case(SNOWPLOW, "e1: Tp1 one event", (TP1, "aid=test", None, None), [{"aid": "test"}]),
    Case(
        SNOWPLOW,
        "e2: Tp1 empty querystring",
        (TP1, None, None, None),
        ("adapter failure", ["querystring"]),
        furrow=("protocol violation", ["querystring"]),
        reason="a pixel request without parameters is a tracker protocol violation in Furrow "
        "(the tracker protocol's path, broken), where Snowplow's tp1 adapter calls it an "
        "adapter failure; both name the query string",
    ),
    Case(
        SNOWPLOW,
        "e3: Tp2 querystring only",
        (TP2, "aid=tp2&e=se", None, None),
        [{"aid": "tp2", "e": "se"}],
    ),
    Case(
        SNOWPLOW,
        "e4: Tp2 body with one event",
        (TP2, None, "application/json; charset=utf-8", PAYLOAD_BATCH),
        [{"tv": "ios-0.1.0", "p": "mob", "e": "se"}],
    ),
    Case(
        SNOWPLOW,
        "e5: Tp2 body's events and querystring's parameters",
        (TP2, "tv=0&nuid=123", "application/json; charset=UTF-8", THREE),
        [{"tv": "0", "p": str(n), "e": str(n), "nuid": "123"} for n in (1, 2, 3)],
    ),
    Case(
        SNOWPLOW,
        "e6: Content-Type application/json; charset=UTF-8",
        (TP2, None, "application/json; charset=UTF-8", PAYLOAD_BATCH),
        [{"tv": "ios-0.1.0", "p": "mob", "e": "se"}],
    ),
    Case(
        SNOWPLOW,
        "e7: Invalid content type",
        (TP2, None, "text/plain", b"body"),
        ("protocol violation", ["contentType"]),
    ),
    Case(
        SNOWPLOW,
        "e7: Neither querystring nor body populated",
        (TP2, None, None, None),
        ("protocol violation", ["body", "querystring"]),
        furrow=("protocol violation", ["querystring"]),
        reason="Furrow names the one thing a tracker must send at least, the parameters",
    ),
    Case(
        SNOWPLOW,
        "e7: Body populated but content type missing",
        (TP2, None, None, b"body"),
        ("protocol violation", ["contentType"]),
        furrow=("protocol violation", ["body"]),
        reason=COMPLETE_BODY + "this one then fails as not JSON",
    ),
    Case(
        SNOWPLOW,
        "e7: Content type populated but body missing",
        (TP2, "a=b", "application/json; charset=utf-8", None),
        ("protocol violation", ["body"]),
        furrow=[{"a": "b"}],
        reason="a request without a body is a GET for Furrow, whatever content type it names",
    ),
    Case(
        SNOWPLOW,
        "e7: Body is not a JSON",
        (TP2, "a=b", JSON, b"body"),
        ("protocol violation", ["body"]),
    ),
    Case(
        SNOWPLOW,
        "e8: body not self-describing",
        (TP2, "aid=test", JSON, b'{"not":"self-desc"}'),
        ("protocol violation", ["body"]),
    ),
    Case(
        SNOWPLOW,
        "e9: body in a schema other than payload_data",
        (TP2, None, JSON, self_describing('{"longitude":20.1234}', "geolocation_context")),
        ("protocol violation", ["body"]),
    ),
    *(
        Case(
            SNOWPLOW,
            f"e10: {name}",
            (TP2, None, JSON, self_describing(data, "payload_data"), True),
            ("protocol violation", ["body"]),
        )
        for name, data in [
            ("JSON object instead of array", "{}"),
            ("Missing required properties", '[{"tv":"ios-0.1.0"}]'),
            ("1 valid, 1 invalid", '[{"tv":"ios-0.1.0","p":"mob","e":"se"},{"new":"foo"}]'),
        ]
    ),
    Case(
        SNOWPLOW,
        "e11: redirect with no event type",
        (
            REDIRECT,
            "u=https%3A%2F%2Fgithub.com%2Fsnowplow%2Fsnowplow&cx=dGVzdHRlc3R0ZXN0",
            None,
            None,
        ),
        [
            {
                "e": "ue",
                "tv": "r-tp2",
                "ue_pr": {"schema": UNSTRUCT, "data": REDIRECT_TARGET},
                "p": "web",
                "cx": "dGVzdHRlc3R0ZXN0",
            }
        ],
    ),
    Case(
        SNOWPLOW,
        "e12: redirect with an event type but no contexts",
        (REDIRECT, "u=https%3A%2F%2Fgithub.com%2Fsnowplow%2Fsnowplow&e=se&aid=ads", None, None),
        [{"e": "se", "aid": "ads", "tv": "r-tp2", "co": NEW_CONTEXTS, "p": "web"}],
    ),
    Case(
        SNOWPLOW,
        "e13: redirect with an event type and empty contexts",
        (REDIRECT, "u=https%3A%2F%2Fgithub.com%2Fsnowplow%2Fsnowplow&e=se&aid=ads&co=", None, None),
        [{"e": "se", "aid": "ads", "tv": "r-tp2", "co": NEW_CONTEXTS, "p": "web"}],
    ),
    Case(
        SNOWPLOW,
        "e14: redirect with an event type and unencoded contexts",
        (
            REDIRECT,
            "u=https%3A%2F%2Fgithub.com%2Fsnowplow%2Fsnowplow&e=se&co="
            + quote(orjson.dumps(MOBILE_AND_GEO).decode()),
            None,
            None,
        ),
        [{"e": "se", "tv": "r-tp2", "co": WITH_REDIRECT, "p": "web"}],
    ),
    Case(
        SNOWPLOW,
        "e15: redirect with an event type and Base64-encoded contexts",
        (
            REDIRECT,
            "u=https%3A%2F%2Fgithub.com%2Fsnowplow%2Fsnowplow&e=se&p=web&cx="
            + base64.urlsafe_b64encode(orjson.dumps(MOBILE_AND_GEO)).decode().rstrip("="),
            None,
            None,
        ),
        [{"e": "se", "tv": "r-tp2", "cx": WITH_REDIRECT, "p": "web"}],
    ),
    Case(
        SNOWPLOW,
        "e16: redirect with an empty querystring",
        (REDIRECT, None, None, None),
        ("protocol violation", ["querystring"]),
    ),
    Case(
        SNOWPLOW,
        "e17: redirect without u",
        (REDIRECT, "aid=test", None, None),
        ("protocol violation", ["querystring"]),
    ),
    Case(
        SNOWPLOW,
        "e18: redirect with corrupted co",
        (REDIRECT, "u=https%3A%2F%2Fgithub.com%2Fsnowplow%2Fsnowplow&e=se&co=%7B%5B-", None, None),
        ("protocol violation", ["co|cx"]),
    ),
    Case(
        SNOWPLOW,
        "e19: redirect with corrupted cx",
        (
            REDIRECT,
            "u=https%3A%2F%2Fgithub.com%2Fsnowplow%2Fsnowplow&e=se&cx=%C2%A2%C2%A2%C2%A2",
            None,
            None,
        ),
        ("protocol violation", ["co|cx"]),
    ),
    Case(
        SNOWPLOW,
        "e20: redirect with u without a value",
        (REDIRECT, "u&cx=dGVzdHRlc3R0ZXN0", None, None),
        ("protocol violation", ["querystring"]),
    ),
]

CAMPAIGN = "iglu:com.acme/campaign/jsonschema/1-0-0"
STATIC = {"tv": "com.snowplowanalytics.iglu-v1", "e": "ue", "p": "app"}
USER = "6353af9b-e288-4cf3-9f1c-b377a9c84dac"
IGLU_CASES = [
    Case(
        IGLU,
        "e1: CloudFront querystring minimally populated",
        (
            WEBHOOK,
            f"schema=iglu%3Acom.acme%2Fcampaign%2Fjsonschema%2F1-0-0&user={USER}&name=download"
            "&publisher_name=Organic&source=&tracking_id=&ad_unit=",
            None,
            None,
        ),
        [
            {
                **STATIC,
                "ue_pr": unstruct(
                    CAMPAIGN,
                    {
                        "name": "download",
                        "source": None,
                        "ad_unit": None,
                        "tracking_id": None,
                        "publisher_name": "Organic",
                        "user": USER,
                    },
                ),
            }
        ],
    ),
    Case(
        IGLU,
        "e2: CloudFront querystring maximally populated",
        (
            WEBHOOK,
            f"schema=iglu%3Acom.acme%2Fcampaign%2Fjsonschema%2F1-0-0&user={USER}&name=install"
            "&source=newsfeed&tracking_id=3353af9c-e298-2cf3-9f1c-b377a9c84dad&ad_unit=UN-11-b"
            "&aid=webhooks",
            None,
            None,
        ),
        [
            {
                **STATIC,
                "aid": "webhooks",
                "ue_pr": unstruct(
                    CAMPAIGN,
                    {
                        "name": "install",
                        "source": "newsfeed",
                        "ad_unit": "UN-11-b",
                        "tracking_id": "3353af9c-e298-2cf3-9f1c-b377a9c84dad",
                        "user": USER,
                    },
                ),
            }
        ],
    ),
    Case(
        IGLU,
        "e3: Clojure-Tomcat querystring",
        (
            WEBHOOK,
            f"schema=iglu%3Acom.acme%2Fcampaign%2Fjsonschema%2F2-0-0&user={USER}&name=retarget"
            "&source=newsfeed&tracking_id=&ad_unit=UN-11-b&aid=my+webhook+project"
            "&cv=clj-0.5.0-tom-0.0.4&nuid=",
            None,
            None,
        ),
        [
            {
                **STATIC,
                "aid": "my webhook project",
                "cv": "clj-0.5.0-tom-0.0.4",
                "nuid": "",
                "ue_pr": unstruct(
                    "iglu:com.acme/campaign/jsonschema/2-0-0",
                    {
                        "name": "retarget",
                        "source": "newsfeed",
                        "ad_unit": "UN-11-b",
                        "tracking_id": None,
                        "user": USER,
                    },
                ),
            }
        ],
    ),
    Case(
        IGLU,
        "e4: non-app platform",
        (
            WEBHOOK,
            f"schema=iglu%3Acom.acme%2Fcampaign%2Fjsonschema%2F1-0-1&user={USER}&name=download&p=mob",
            None,
            None,
        ),
        [
            {
                **STATIC,
                "p": "mob",
                "ue_pr": unstruct(
                    "iglu:com.acme/campaign/jsonschema/1-0-1", {"user": USER, "name": "download"}
                ),
            }
        ],
    ),
    Case(
        IGLU,
        "e5: no parameters",
        (WEBHOOK, None, None, None),
        ("adapter failure", ["schema", "body"]),
    ),
    Case(
        IGLU,
        "e6: no schema parameter",
        (WEBHOOK, "some_param=foo&p=mob", None, None),
        ("adapter failure", ["schema", "body"]),
    ),
    Case(
        IGLU,
        "e7: schema not an Iglu URI",
        (WEBHOOK, "schema=iglooooooo%3A%2F%2Fblah", None, None),
        ("adapter failure", ["schema"]),
    ),
    Case(
        IGLU,
        "e8: schema parameter with a valid content type",
        (
            WEBHOOK,
            "schema=iglu%3Acom.acme%2Fcampaign%2Fjsonschema%2F1-0-1&some_param=foo&p=mob",
            JSON,
            b'{"key":"value", "everwets":"processed"}',
        ),
        [
            {
                **STATIC,
                "p": "mob",
                "ue_pr": unstruct(
                    "iglu:com.acme/campaign/jsonschema/1-0-1",
                    {"key": "value", "everwets": "processed"},
                ),
            }
        ],
    ),
    Case(
        IGLU,
        "e9: unsupported content type",
        (
            WEBHOOK,
            "schema=iglu%3Acom.acme%2Fcampaign%2Fjsonschema%2F1-0-1&some_param=foo&p=mob",
            "application/badtype",
            b'{"key":"value", "everwets":"processed"}',
        ),
        ("adapter failure", ["contentType"]),
    ),
    Case(
        IGLU,
        "e10: no events in the JSON payload",
        (WEBHOOK, "schema=iglu%3Acom.acme%2Fcampaign%2Fjsonschema%2F1-0-1&p=mob", JSON, b"{}"),
        ("adapter failure", ["body"]),
    ),
    Case(
        IGLU,
        "e11: body without a content type",
        (
            WEBHOOK,
            "schema=iglu%3Acom.acme%2Fcampaign%2Fjsonschema%2F1-0-1",
            None,
            b'{"key":"value"}',
        ),
        ("adapter failure", ["contentType"]),
    ),
    Case(
        IGLU,
        "e12: a self-describing JSON body",
        (
            WEBHOOK,
            "p=mob",
            JSON,
            b'{"schema":"iglu:com.acme/campaign/jsonschema/1-0-1", "data":{"some_param":"foo"}}',
        ),
        [
            {
                **STATIC,
                "p": "mob",
                "ue_pr": unstruct("iglu:com.acme/campaign/jsonschema/1-0-1", {"some_param": "foo"}),
            }
        ],
    ),
    Case(
        IGLU,
        "e13: self-describing JSON with an unsupported content type",
        (
            WEBHOOK,
            "p=mob",
            "application/xxx-url-form-encoded",
            b'{"schema":"iglu:com.acme/campaign/jsonschema/1-0-1", "data":{"some_param":"foo"}}',
        ),
        ("adapter failure", ["contentType"]),
    ),
    Case(
        IGLU,
        "e14: body with an unsupported content type",
        (
            WEBHOOK,
            "schema=iglu%3Acom.acme%2Fcampaign%2Fjsonschema%2F1-0-1",
            "application/xxx-url-form-encoded",
            b'{"some_param":"foo"}',
        ),
        ("adapter failure", ["contentType"]),
    ),
    Case(
        IGLU,
        "e15: a form body",
        (
            WEBHOOK,
            "schema=iglu%3Acom.acme%2Fcampaign%2Fjsonschema%2F1-0-1",
            "application/x-www-form-urlencoded",
            b"some_param=foo&hello=world",
        ),
        [
            {
                **STATIC,
                "p": "srv",
                "ue_pr": unstruct(
                    "iglu:com.acme/campaign/jsonschema/1-0-1",
                    {"some_param": "foo", "hello": "world"},
                ),
            }
        ],
    ),
    Case(
        IGLU,
        "e16: schema in the querystring and an array body",
        (
            WEBHOOK,
            "schema=iglu%3Acom.acme%2Fcampaign%2Fjsonschema%2F1-0-1&some_param=foo&p=mob",
            JSON,
            b'[{"key":"value", "everwets":"processed"},{"key":"value", "everwets":"processed"}]',
        ),
        [
            {
                **STATIC,
                "p": "mob",
                "ue_pr": unstruct(
                    "iglu:com.acme/campaign/jsonschema/1-0-1",
                    {"key": "value", "everwets": "processed"},
                ),
            }
        ]
        * 2,
    ),
    Case(
        IGLU,
        "e17: schema in the querystring and an empty array body",
        (WEBHOOK, "schema=iglu%3Acom.acme%2Fcampaign%2Fjsonschema%2F1-0-1&p=mob", JSON, b"[]"),
        ("adapter failure", ["body"]),
    ),
]


@pytest.mark.parametrize("case", cases(SNOWPLOW_CASES + IGLU_CASES))
def test_adapters(case: Case) -> None:
    case.check(outcome(*case.given))


def all_cases() -> list[Case]:
    return SNOWPLOW_CASES + IGLU_CASES
