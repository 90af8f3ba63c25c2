from __future__ import annotations

import base64

import orjson
import pytest

from libs.formats.collector_payload import CollectorPayload
from services.enrich.model import RawEvent
from services.enrich.protocol import derived_ms, read_event

COLLECTED_MS = 1_795_000_000_000  # 2026-11-18 11:06:40.000
PAYLOAD = CollectorPayload(
    ip_address="203.0.113.9",
    timestamp_ms=COLLECTED_MS,
    collector="furrow-0.1.0-kafka",
    path="/i",
    user_agent="Mozilla/5.0 (X11)",
    referer_uri="https://shop.example.com/from-referer",
    network_user_id="nuid-1",
)
BASE = {"e": "pv", "p": "web", "tv": "js-3.0.0"}
UNSTRUCT = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"
CONTEXTS = "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1"
CHECKOUT = {"schema": "iglu:com.acme/checkout/jsonschema/1-0-0", "data": {"total": 12}}
USER = {"schema": "iglu:com.acme/user/jsonschema/1-0-0", "data": {"plan": "pro"}}


def b64(value: object, padding: bool = True) -> str:
    encoded = base64.urlsafe_b64encode(orjson.dumps(value)).decode()
    return encoded if padding else encoded.rstrip("=")


def read(**parameters: str):  # type: ignore[no-untyped-def]
    return read_event(
        RawEvent({**BASE, **parameters}, PAYLOAD), etl_ms=COLLECTED_MS + 500, etl_version="etl-1"
    )


def test_a_page_view_field_by_field() -> None:
    reading = read(
        aid="shop",
        tna="sp",
        eid="c6ef3124-b53a-4b13-a233-0088f79dcbcb",
        uid="user-1",
        duid="duid-1",
        sid="sid-1",
        vid="3",
        url="https://shop.example.com:8443/a/b?utm_source=x#top",
        page="Home",
        refr="http://www.google.com/search?q=shoes",
        res="1920x1080",
        vp="1536x730",
        ds="1536x4000",
        lang="fr-FR",
        cs="UTF-8",
        tz="Europe/Paris",
        cd="24",
        cookie="1",
        f_pdf="0",
        dtm="1795000000000",
        stm="1795000000100",
    )
    assert reading.violations == []
    assert reading.event == {
        "etl_tstamp": "2026-11-18 11:06:40.500",
        "collector_tstamp": "2026-11-18 11:06:40.000",
        "v_collector": "furrow-0.1.0-kafka",
        "v_etl": "etl-1",
        "user_ipaddress": "203.0.113.9",
        "useragent": "Mozilla/5.0 (X11)",
        "network_userid": "nuid-1",
        "event": "page_view",
        "event_vendor": "com.snowplowanalytics.snowplow",
        "event_name": "page_view",
        "event_format": "jsonschema",
        "event_version": "1-0-0",
        "platform": "web",
        "event_id": "c6ef3124-b53a-4b13-a233-0088f79dcbcb",
        "app_id": "shop",
        "name_tracker": "sp",
        "v_tracker": "js-3.0.0",
        "user_id": "user-1",
        "domain_userid": "duid-1",
        "domain_sessionid": "sid-1",
        "domain_sessionidx": "3",
        "page_title": "Home",
        "br_lang": "fr-FR",
        "doc_charset": "UTF-8",
        "os_timezone": "Europe/Paris",
        "br_colordepth": "24",
        "br_cookies": "1",
        "br_features_pdf": "0",
        "dvce_created_tstamp": "2026-11-18 11:06:40.000",
        "dvce_sent_tstamp": "2026-11-18 11:06:40.100",
        "dvce_screenwidth": "1920",
        "dvce_screenheight": "1080",
        "br_viewwidth": "1536",
        "br_viewheight": "730",
        "doc_width": "1536",
        "doc_height": "4000",
        "page_url": "https://shop.example.com:8443/a/b?utm_source=x#top",
        "page_urlscheme": "https",
        "page_urlhost": "shop.example.com",
        "page_urlport": "8443",
        "page_urlpath": "/a/b",
        "page_urlquery": "utm_source=x",
        "page_urlfragment": "top",
        "page_referrer": "http://www.google.com/search?q=shoes",
        "refr_urlscheme": "http",
        "refr_urlhost": "www.google.com",
        "refr_urlport": "80",
        "refr_urlpath": "/search",
        "refr_urlquery": "q=shoes",
        "derived_tstamp": "2026-11-18 11:06:39.900",
    }


def test_parameters_override_what_the_request_says() -> None:
    event = read(ip="198.51.100.4", ua="custom-agent", tnuid="tracker-nuid").event
    assert (event["user_ipaddress"], event["useragent"], event["network_userid"]) == (
        "198.51.100.4",
        "custom-agent",
        "tracker-nuid",
    )


def test_a_pixel_without_url_takes_the_page_from_the_referer() -> None:
    assert read().event["page_url"] == "https://shop.example.com/from-referer"


def test_a_missing_event_id_is_made() -> None:
    first, second = read().event["event_id"], read().event["event_id"]
    assert len(first) == 36 and first != second


@pytest.mark.parametrize(
    ("code", "event", "name"),
    [
        ("pv", "page_view", "page_view"),
        ("pp", "page_ping", "page_ping"),
        ("se", "struct", "event"),
        ("tr", "transaction", "transaction"),
        ("ti", "transaction_item", "transaction_item"),
    ],
)
def test_event_types(code: str, event: str, name: str) -> None:
    reading = read(e=code)
    assert (reading.event["event"], reading.event["event_name"]) == (event, name)


@pytest.mark.parametrize("padding", [True, False])
@pytest.mark.parametrize("encoded", [True, False])
def test_self_describing_event_and_contexts(encoded: bool, padding: bool) -> None:
    envelope = {
        "schema": "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",
        "data": CHECKOUT,
    }
    contexts = {
        "schema": "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1",
        "data": [USER],
    }
    parameters = (
        {"ue_px": b64(envelope, padding), "cx": b64(contexts, padding)}
        if encoded
        else {"ue_pr": orjson.dumps(envelope).decode(), "co": orjson.dumps(contexts).decode()}
    )
    reading = read(e="ue", **parameters)
    assert reading.violations == []
    assert reading.unstruct_event == CHECKOUT
    assert reading.contexts == [USER]
    assert orjson.loads(reading.event["unstruct_event"]) == envelope
    assert orjson.loads(reading.event["contexts"]) == contexts
    assert (reading.event["event_vendor"], reading.event["event_name"]) == ("com.acme", "checkout")


@pytest.mark.parametrize(("parameter", "value"), [("vid", "three"), ("vid", "99999999999")])
def test_unreadable_integers_are_atomic_errors_not_violations(parameter: str, value: str) -> None:
    reading = read(**{parameter: value})
    assert reading.violations == []
    assert [(e.parameter, e.value, e.message) for e in reading.atomic_errors] == [
        (parameter, value, "Cannot be converted to java.lang.Integer")
    ]


@pytest.mark.parametrize("value", ["lots", "nan", "", "1,5"])
def test_unreadable_decimals_are_atomic_errors_not_violations(value: str) -> None:
    reading = read(se_va=value)
    assert reading.violations == []
    assert [(e.parameter, e.value) for e in reading.atomic_errors] == [("se_va", value)]
    assert reading.atomic_errors[0].message.startswith(
        "Cannot be converted to java.math.BigDecimal"
    )
    assert "se_value" not in reading.event


@pytest.mark.parametrize(
    ("parameters", "field"),
    [
        ({"e": ""}, "e"),
        ({"e": "zz"}, "e"),
        ({"p": "toaster"}, "p"),
        ({"tv": ""}, "tv"),
        ({"eid": "not-a-uuid"}, "eid"),
        ({"f_pdf": "maybe"}, "f_pdf"),
        ({"dtm": "yesterday"}, "dtm"),
        ({"dtm": "-5"}, "dtm"),
        ({"res": "1920"}, "res"),
        ({"res": "axb"}, "res"),
        ({"url": "not a url"}, "url"),
        ({"url": "http://[::1"}, "url"),
        ({"e": "ue"}, "ue_pr"),
        ({"e": "ue", "ue_px": "!!!not base64!!!"}, "ue_px"),
        ({"e": "ue", "ue_pr": "{not json"}, "ue_pr"),
        ({"e": "ue", "ue_pr": '{"schema": "iglu:x/y/jsonschema/1-0-0", "data": {}}'}, "ue_pr"),
        (
            {
                "e": "ue",
                "ue_pr": orjson.dumps(
                    {
                        "schema": UNSTRUCT,
                        "data": "text",
                    }
                ).decode(),
            },
            "ue_pr",
        ),
        (
            {"co": orjson.dumps({"schema": CONTEXTS, "data": {}}).decode()},
            "co",
        ),
        ({"cx": b64([1, 2])}, "co"),
    ],
)
def test_protocol_violations_name_the_field(parameters: dict[str, str], field: str) -> None:
    violations = read(**parameters).violations
    assert [violation["field"] for violation in violations] == [field]
    assert violations[0]["expectation"]


def test_every_violation_of_an_event_is_listed() -> None:
    reading = read(e="", p="", tv="", vid="x")
    assert sorted(v["field"] for v in reading.violations) == ["e", "p", "tv"]
    # An unreadable number is an atomic error, listed with the violations in the bad row.
    assert [e.parameter for e in reading.atomic_errors] == ["vid"]


@pytest.mark.parametrize(
    "order",
    [
        ["vid", "res", "dtm", "se_va", "f_pdf"],
        ["res", "se_va", "f_pdf", "dtm", "vid"],
        ["se_va", "dtm", "vid", "f_pdf", "res"],
    ],
)
def test_violations_come_in_one_order_whatever_the_order_of_the_parameters(
    order: list[str],
) -> None:
    malformed = {"vid": "x", "f_pdf": "maybe", "dtm": "soon", "res": "big", "se_va": "lots"}
    reading = read(**{name: malformed[name] for name in order})
    # Converted fields, then device times, then sizes, each by name; numbers by name.
    assert [v["field"] for v in reading.violations] == ["f_pdf", "dtm", "res"]
    assert [e.parameter for e in reading.atomic_errors] == ["se_va", "vid"]


def test_an_upper_case_event_id_is_written_canonically() -> None:
    reading = read(eid="5B7A3E2C-1D2F-4C3B-9A8E-000000000001")
    assert reading.violations == []
    assert reading.event["event_id"] == "5b7a3e2c-1d2f-4c3b-9a8e-000000000001"


@pytest.mark.parametrize(
    ("created", "sent", "true", "expected"),
    [
        (None, None, None, COLLECTED_MS),
        (1_795_000_000_000, 1_795_000_005_000, None, COLLECTED_MS - 5_000),
        (1_795_000_005_000, 1_795_000_000_000, None, COLLECTED_MS),
        (1_795_000_000_000, None, None, COLLECTED_MS),
        (1_795_000_000_000, 1_795_000_005_000, 1_700_000_000_000, 1_700_000_000_000),
        (0, 1_795_000_005_000, None, 0),
    ],
)
def test_derived_timestamp(
    created: int | None, sent: int | None, true: int | None, expected: int
) -> None:
    assert derived_ms(COLLECTED_MS, created, sent, true) == expected


@pytest.mark.parametrize(
    ("sent", "derived"),
    [
        ({"dtm": "1795000000000", "stm": "1795000005000"}, "2026-11-18 11:06:35.000"),
        (
            {"dtm": "1795000000000", "stm": "1795000005000", "ttm": "1700000000000"},
            "2023-11-14 22:13:20.000",
        ),
        ({"dtm": "1795000000000"}, "2026-11-18 11:06:40.000"),
    ],
)
def test_derived_timestamp_of_an_event(sent: dict[str, str], derived: str) -> None:
    reading = read(**sent)
    assert reading.violations == []
    assert reading.event["derived_tstamp"] == derived


def test_cross_domain_linker_fields() -> None:
    event = read(url="https://shop.example.com/?_sp=duid-9.1795000000000").event
    assert event["refr_domain_userid"] == "duid-9"
    assert event["refr_device_tstamp"] == "2026-11-18 11:06:40.000"
