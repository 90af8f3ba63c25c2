"""Snowplow's vectors for reading tracker parameters into atomic fields: its conversion
utilities (numbers, decimals, booleans, UUIDs, base64, URL decoding, URIs), event types,
platforms, timestamps, screen sizes, IP addresses, and EnrichmentManagerSpec's tables of
atomic fields. Each is run through Furrow's own reading of an event (`read_event`), so what is
checked is what lands in the enriched event."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

import pytest

from libs.formats.collector_payload import CollectorPayload
from libs.formats.enriched import timestamp
from services.enrich.adapters import parse_query
from services.enrich.decimals import snowplow_decimal
from services.enrich.model import RawEvent
from services.enrich.protocol import (
    ProtocolReading,
    decode_base64_url,
    derived_ms,
    first_address,
    read_event,
)
from tests.unit.snowplow_vectors import Case, cases

CONVERSIONS = "utils/conversionUtilsSpecs.scala"
EVENTS = "enrichments/eventEnrichmentSpecs.scala"
CLIENT = "enrichments/clientEnrichmentSpecs.scala"
MISC = "enrichments/miscEnrichmentSpecs.scala"
MANAGER = "enrichments/EnrichmentManagerSpec.scala"

REFUSED = "<refused>"
"""The event is not enriched: the value breaks the tracker protocol or an atomic field."""
ABSENT = None
"""The parameter is not sent (Snowplow's `null` input), or the field is left empty."""

PAYLOAD = CollectorPayload(
    ip_address="37.157.33.123",
    timestamp_ms=1_377_735_528_000,
    collector="furrow-test",
    path="/i",
    user_agent="header-useragent",
)


def read(parameters: dict[str, str], payload: CollectorPayload = PAYLOAD) -> ProtocolReading:
    """An event of Snowplow's specs (`e=pp`, `p=web`, `tv=js-0.13.1`) with `parameters`."""
    raw = RawEvent({"e": "pp", "tv": "js-0.13.1", "p": "web", **parameters}, payload)
    return read_event(raw, etl_ms=payload.timestamp_ms, etl_version="furrow-test")


def refused(reading: ProtocolReading, parameter: str) -> bool:
    return any(v["field"] == parameter for v in reading.violations) or any(
        e.parameter == parameter for e in reading.atomic_errors
    )


def field_from(parameter: str, value: str | None, field: str) -> str | None:
    """The field an event gets from `parameter=value` (not sent when `value` is None), or
    REFUSED."""
    reading = read({} if value is None else {parameter: value})
    if refused(reading, parameter):
        return REFUSED
    return reading.event.get(field)


DOUBLE_LIKE = "Snowplow 5.x no longer reads the decimal fields with stringToDoubleLike: "

DECIMALS = [
    *(
        Case(CONVERSIONS, f"StringToDoubleLikeSpec e1: {name}", value, REFUSED)
        for name, value in [
            ("Empty string", ""),
            ("Number with commas", "19,999.99"),
            ("Hexadecimal number", "0x54"),
            ("Bad sci. notation", "-7.51E^9"),
            ("German number", "1.000,3932"),
            ("NaN", "NaN"),
            ("English string", "hi & bye"),
            ("Vietnamese name", "Trịnh Công Sơn"),
        ]
    ),
    *(
        Case(CONVERSIONS, f"StringToDoubleLikeSpec e2: {name}", value, expected)
        for name, value, expected in [
            ("Integer #1", "23", "23"),
            ("Integer #2", "23.", "23"),
            ("Negative integer", "-2012103", "-2012103"),
            ("Null value (raw)", None, ABSENT),
            ("Null value (String)", "null", ABSENT),
            ("Arabic number", "٤٥٦٧.٦٧", "4567.67"),
            ("Floating point #1", "1999.99", "1999.99"),
            ("Floating point #2", "1999.00", "1999.00"),
            ("Floating point #3", "78694353.00001", "78694353.00001"),
            ("Floating point #4", "-78694353.00001", "-78694353.00001"),
            ("Sci. notation #1", "4.321768E3", "4321.768"),
            ("Sci. notation #2", "6.72E9", "6720000000"),
        ]
    ),
    Case(
        CONVERSIONS,
        "StringToDoubleLikeSpec e2: Sci. notation #3",
        "7.51E-9",
        "0.00000000751",
        furrow="7.51E-9",
        reason=DOUBLE_LIKE + "its big-decimal conversion writes Java's BigDecimal.toString(), "
        "7.51E-9, as EnrichmentManagerSpec expects 1E-7 for 0.0000001",
    ),
    Case(
        CONVERSIONS,
        "StringToDoubleLikeSpec e3: BigNumber",
        "78694235323.00000001",
        "78694235323.00000001",
    ),
    *(
        Case(MANAGER, f"create an EnrichedEvent with correct BigDecimal field values: {v}", v, e)
        for v, e in [
            ("42", "42"),
            ("42.5", "42.5"),
            ("137777104559", "137777104559"),
            ("-137777104559", "-137777104559"),
            ("1E7", "10000000"),
            ("1.2E9", "1200000000"),
            ("0.000001", "0.000001"),
            ("0.0000001", "1E-7"),
        ]
    ),
]


@pytest.mark.parametrize("case", cases(DECIMALS))
def test_decimals(case: Case) -> None:
    # ev_va is what EnrichmentManagerSpec sends; se_va is read the same way.
    for parameter in ("se_va", "ev_va"):
        case.check(field_from(parameter, case.given, "se_value"))


VALID_DECIMALS = [
    Case(MANAGER, f"emit an EnrichedEvent for valid decimal fields: {parameter}={value}", v, v)
    for value in ("42", "42.5", "null")
    for parameter in ("ev_va", "se_va", "tr_tt", "tr_tx", "tr_sh", "ti_pr")
    for v in [(parameter, value)]
]
VALID_INTEGERS = [
    Case(MANAGER, f"emit an EnrichedEvent for valid integer fields: {parameter}={value}", v, v)
    for value in ("42", "-42", "null")
    for parameter in ("tid", "vid", "ti_qu", "pp_mix", "pp_max", "pp_miy", "pp_may")
    for v in [(parameter, value)]
]


@pytest.mark.parametrize("case", cases(VALID_DECIMALS + VALID_INTEGERS))
def test_valid_numbers_give_an_event(case: Case) -> None:
    parameter, value = case.given
    reading = read({parameter: value})
    case.check((parameter, value) if not refused(reading, parameter) else REFUSED)


def test_the_bad_number_of_the_atomic_and_unstruct_bad_row_case() -> None:
    # EnrichmentManagerSpec: "return a SchemaViolations bad row that contains 1 ValidationError
    # for the atomic field and 1 ValidationError for the unstruct event": the atomic error names
    # tr_tt and says it cannot be a java.math.BigDecimal (the bad row is in test_snowplow_golden).
    (error,) = read({"tr_tt": "not number"}).atomic_errors
    report = error.data_report()
    assert report["path"] == "tr_tt"
    assert "Cannot be converted to java.math.BigDecimal" in report["message"]
    assert report["keyword"] == "atomic_field_parse_error"


INTEGERS = [
    *(
        Case(CONVERSIONS, f"StringToJIntegerSpec e1: {name}", value, REFUSED)
        for name, value in [
            ("Empty string", ""),
            ("Floating point #1", "1999."),
            ("Floating point #2", "1999.00"),
            ("Hexadecimal number", "0x54"),
            ("NaN", "NaN"),
            ("Sci. notation", "6.72E5"),
        ]
    ),
    *(
        Case(CONVERSIONS, f"StringToJIntegerSpec e2: {name}", value, expected)
        for name, value, expected in [
            ("Integer #1", "0", "0"),
            ("Integer #2", "23", "23"),
            ("Negative integer #1", "-2012103", "-2012103"),
            ("Negative integer #2", "-1", "-1"),
            ("Null", None, ABSENT),
        ]
    ),
]


@pytest.mark.parametrize("case", cases(INTEGERS))
def test_integers(case: Case) -> None:
    case.check(field_from("vid", case.given, "domain_sessionidx"))


@pytest.mark.parametrize(
    "case",
    cases(
        [
            Case(CONVERSIONS, "ValidateIntegerSpec e1", "123", "123"),
            Case(CONVERSIONS, "ValidateIntegerSpec e2", "abc", REFUSED),
        ]
    ),
)
def test_transaction_ids(case: Case) -> None:
    case.check(field_from("tid", case.given, "txn_id"))


BOOLEANS = [
    *(
        Case(CONVERSIONS, f"StringToBooleanLikeJByteSpec e1: {name}", value, REFUSED)
        for name, value in [
            ("Empty string", ""),
            ("Small number", "2"),
            ("Negative number", "-1"),
            ("Floating point number", "0.0"),
            ("Large number", "19,999.99"),
            ("Text #1", "a"),
            ("Text #2", "0x54"),
        ]
    ),
    Case(CONVERSIONS, "StringToBooleanLikeJByteSpec e2: True aka 1", "1", "1"),
    Case(CONVERSIONS, "StringToBooleanLikeJByteSpec e2: False aka 0", "0", "0"),
]


@pytest.mark.parametrize("case", cases(BOOLEANS))
def test_booleans(case: Case) -> None:
    case.check(field_from("f_pdf", case.given, "br_features_pdf"))


UUIDS = [
    Case(CONVERSIONS, f"ValidateUuidSpec e1: {name}", value, value.lower())
    for name, value in [
        ("Lowercase UUID #1", "f732d278-120e-4ab6-845b-c1f11cd85dc7"),
        ("Lowercase UUID #2", "a729d278-110a-4ac6-845b-d1f12ce45ac7"),
        ("Uppercase UUID #1", "A729D278-110A-4AC6-845B-D1F12CE45AC7"),
        ("Uppercase UUID #2", "F732D278-120E-4AB6-845B-C1F11CD85DC7"),
    ]
] + [
    # The spec's e2 is a property (random text is no UUID); these are fixed instances of it.
    Case(CONVERSIONS, f"ValidateUuidSpec e2: {value!r}", value, REFUSED)
    for value in ["", "not-a-uuid", "{f732d278-120e-4ab6-845b-c1f11cd85dc7}", "f732d278120e4ab6"]
]


@pytest.mark.parametrize("case", cases(UUIDS))
def test_event_ids(case: Case) -> None:
    case.check(field_from("eid", case.given, "event_id"))


BASE64 = [
    Case(CONVERSIONS, f"DecodeBase64UrlSpec e3: {name}", encoded, decoded)
    for name, encoded, decoded in [
        ("Lua Tracker String #1", "Sm9oblNtaXRo", "JohnSmith"),
        ("Lua Tracker String #2", "am9obitzbWl0aA", "john+smith"),
        ("Lua Tracker String #3", "Sm9obiBTbWl0aA", "John Smith"),
        ("Lua Tracker JSON #1", "eyJhZ2UiOjIzLCJuYW1lIjoiSm9obiJ9", '{"age":23,"name":"John"}'),
        (
            "Lua Tracker JSON #2",
            "eyJteVRlbXAiOjIzLjMsIm15VW5pdCI6ImNlbHNpdXMifQ",
            '{"myTemp":23.3,"myUnit":"celsius"}',
        ),
        (
            "Lua Tracker JSON #3",
            "eyJldmVudCI6InBhZ2VfcGluZyIsIm1vYmlsZSI6dHJ1ZSwicHJvcGVydGllcyI6eyJtYXhfeCI6OTYwLCJt"
            "YXhfeSI6MTA4MCwibWluX3giOjAsIm1pbl95IjotMTJ9fQ",
            '{"event":"page_ping","mobile":true,"properties":{"max_x":960,"max_y":1080,'
            '"min_x":0,"min_y":-12}}',
        ),
        (
            "Lua Tracker JSON #4",
            "eyJldmVudCI6ImJhc2tldF9jaGFuZ2UiLCJwcmljZSI6MjMuMzksInByb2R1Y3RfaWQiOiJQQlowMDAzNDUi"
            "LCJxdWFudGl0eSI6LTIsInRzdGFtcCI6MTY3ODAyMzAwMH0",
            '{"event":"basket_change","price":23.39,"product_id":"PBZ000345","quantity":-2,'
            '"tstamp":1678023000}',
        ),
        (
            "JS Tracker JSON #1",
            "eyJwcm9kdWN0X2lkIjoiQVNPMDEwNDMiLCJjYXRlZ29yeSI6IkRyZXNzZXMiLCJicmFuZCI6IkFDTUUiLCJy"
            "ZXR1cm5pbmciOnRydWUsInByaWNlIjo0OS45NSwic2l6ZXMiOlsieHMiLCJzIiwibCIsInhsIiwieHhsIl0s"
            "ImF2YWlsYWJsZV9zaW5jZSRkdCI6MTU4MDF9",
            '{"product_id":"ASO01043","category":"Dresses","brand":"ACME","returning":true,'
            '"price":49.95,"sizes":["xs","s","l","xl","xxl"],"available_since$dt":15801}',
        ),
        ("Blank string", "", ""),
    ]
] + [
    Case(
        CONVERSIONS,
        "DecodeBase64UrlSpec e3: Unescaped characters",
        "äöü - &",
        "",
        furrow=REFUSED,
        reason="text that is not base64 at all is reported as such (a tracker protocol "
        "violation naming ue_px or cx), where Snowplow decodes it to nothing and then fails "
        "on the JSON; either way the event is a bad row",
    )
]


@pytest.mark.parametrize("case", cases(BASE64))
def test_base64_url(case: Case) -> None:
    try:
        decoded = decode_base64_url(case.given)
    except ValueError:
        decoded = REFUSED
    case.check(decoded)


def test_decode_string_spec_round_trip() -> None:
    # DecodeStringSpec e1: a string URL-encoded as Java's URLEncoder does is decoded back.
    clear = "12 ++---=&&3abc%%%34%2234%$#@%^PLLPbgfxbf$#%$@#@^"
    problems: list[dict[str, str]] = []
    assert parse_query(f"v={quote_plus(clear, safe='*')}", problems, "querystring") == {"v": clear}
    assert problems == []


def test_decode_string_spec_bad_encoding() -> None:
    # DecodeStringSpec e2: "%%23" is not URL-encoded text.
    problems: list[dict[str, str]] = []
    parse_query("v=%%23", problems, "querystring")
    assert [p["field"] for p in problems] == ["querystring"]


QUERY_STRINGS = [
    Case(CONVERSIONS, "ExtractQueryStringSpec e1", "a=b", {"a": "b"}),
    Case(
        CONVERSIONS,
        "ExtractQueryStringSpec e2",
        "a",
        {"a": None},
        furrow={"a": ""},
        reason="Furrow's raw parameters are text: a name without `=` has the empty value",
    ),
    Case(CONVERSIONS, "ExtractQueryStringSpec e3", "a=", {"a": ""}),
    Case(
        CONVERSIONS,
        "ExtractQueryStringSpec e4",
        "a=b&a=c",
        [("a", "b"), ("a", "c")],
        furrow={"a": "c"},
        reason="Furrow's parameters are a map from the start, holding the last value, as "
        "Snowplow's event parameters do once its adapters have turned the list into a map",
    ),
]


@pytest.mark.parametrize("case", cases(QUERY_STRINGS))
def test_query_strings(case: Case) -> None:
    problems: list[dict[str, str]] = []
    parameters = parse_query(case.given, problems, "querystring")
    assert problems == []
    case.check(parameters)


URIS = [
    Case(CONVERSIONS, f"ExplodeUriSpec e1: {name}", uri, parts)
    for name, uri, parts in [
        (
            "With path, qs & #",
            "http://www.psychicbazaar.com/oracles/119-psycards-deck.html?view=print#detail",
            (
                "http",
                "www.psychicbazaar.com",
                "80",
                "/oracles/119-psycards-deck.html",
                "view=print",
                "detail",
            ),
        ),
        (
            "With path & space in qs",
            "http://psy.bz/genre/all/type/all?utm_source=google&utm_medium=cpc"
            "&utm_term=buy%2Btarot&utm_campaign=spring_sale",
            (
                "http",
                "psy.bz",
                "80",
                "/genre/all/type/all",
                "utm_source=google&utm_medium=cpc&utm_term=buy%2Btarot&utm_campaign=spring_sale",
                None,
            ),
        ),
        (
            "With path & no www",
            "http://snowplowanalytics.com/analytics/index.html",
            ("http", "snowplowanalytics.com", "80", "/analytics/index.html", None, None),
        ),
        (
            "Port specified",
            "http://www.nbnz.co.nz:440/login.asp",
            ("http", "www.nbnz.co.nz", "440", "/login.asp", None, None),
        ),
        (
            "HTTPS & #",
            "https://www.lancs.ac.uk#footer",
            ("https", "www.lancs.ac.uk", "443", None, None, "footer"),
        ),
        (
            "www2 & trailing /",
            "https://www2.williamhill.com/",
            ("https", "www2.williamhill.com", "443", "/", None, None),
        ),
        (
            "Tab & newline in qs",
            "http://www.ebay.co.uk/sch/i.html?_from=R40&_trksid=m570.l2736"
            "&_nkw=%09+Clear+Quartz+Point+Rock+Crystal%0ADowsing+Pendulum",
            (
                "http",
                "www.ebay.co.uk",
                "80",
                "/sch/i.html",
                "_from=R40&_trksid=m570.l2736&_nkw=%09+Clear+Quartz+Point+Rock+Crystal%0ADowsing+Pendulum",
                None,
            ),
        ),
        (
            "Tab & newline in path",
            "https://snowplowanalytics.com/analytic%0As/index%09nasty.html",
            (
                "https",
                "snowplowanalytics.com",
                "443",
                "/analytic%0As/index%09nasty.html",
                None,
                None,
            ),
        ),
        (
            "Tab & newline in #",
            "http://psy.bz/oracles/psycards.html?view=print#detail%09is%0Acorrupted",
            (
                "http",
                "psy.bz",
                "80",
                "/oracles/psycards.html",
                "view=print",
                "detail%09is%0Acorrupted",
            ),
        ),
    ]
]


@pytest.mark.parametrize("case", cases(URIS))
def test_page_url_parts(case: Case) -> None:
    event = read({"url": case.given}).event
    parts = ("scheme", "host", "port", "path", "query", "fragment")
    case.check(tuple(event.get(f"page_url{part}") for part in parts))


EVENT_TYPES = [
    *(
        Case(EVENTS, f"ExtractEventTypeSpec e1: {name}", code, event)
        for name, code, event in [
            ("transaction", "tr", "transaction"),
            ("transaction item", "ti", "transaction_item"),
            ("page view", "pv", "page_view"),
            ("page ping", "pp", "page_ping"),
            ("unstructured event", "ue", "unstruct"),
            ("structured event", "se", "struct"),
            ("structured event (legacy)", "ev", "struct"),
            ("ad impression (legacy)", "ad", "ad_impression"),
        ]
    ),
    *(
        Case(EVENTS, f"ExtractEventTypeSpec e2: {name}", code, REFUSED)
        for name, code in [
            ("empty string", ""),
            ("unrecognized #1", "e"),
            ("unrecognized #2", "evnt"),
        ]
    ),
]


@pytest.mark.parametrize("case", cases(EVENT_TYPES))
def test_event_types(case: Case) -> None:
    reading = read({"e": case.given})
    case.check(REFUSED if refused(reading, "e") else reading.event["event"])


def test_an_event_without_its_type_is_refused() -> None:
    # ExtractEventTypeSpec e2: null.
    raw = RawEvent({"tv": "js-0.13.1", "p": "web"}, PAYLOAD)
    assert refused(read_event(raw, etl_ms=0, etl_version="furrow-test"), "e")


TIMESTAMPS = [
    Case(EVENTS, "ExtractEventTypeSpec e4: Not long", "v", REFUSED),
    Case(EVENTS, "ExtractEventTypeSpec e4: Too long", "1111111111111111", REFUSED),
    Case(EVENTS, "ExtractEventTypeSpec e4: Valid ts", "1", "1970-01-01 00:00:00.001"),
]


@pytest.mark.parametrize("case", cases(TIMESTAMPS))
def test_timestamps(case: Case) -> None:
    for parameter, field in [
        ("dtm", "dvce_created_tstamp"),
        ("stm", "dvce_sent_tstamp"),
        ("ttm", "true_tstamp"),
    ]:
        case.check(field_from(parameter, case.given, field))


def at(text: str | None) -> int | None:
    if text is None:
        return None
    moment = datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)
    return round(moment.timestamp() * 1000)


DERIVED = [
    Case(EVENTS, f"DerivedTimestampSpec e1: {name}", (created, sent, collected, true), expected)
    for name, created, sent, collected, true, expected in [
        (
            "No dvce_sent_tstamp",
            "2014-04-29 12:00:54.555",
            None,
            "2014-04-29 09:00:54.000",
            None,
            "2014-04-29 09:00:54.000",
        ),
        (
            "No dvce_created_tstamp",
            None,
            None,
            "2014-04-29 09:00:54.000",
            None,
            "2014-04-29 09:00:54.000",
        ),
        (
            "dvce_sent_tstamp before dvce_created_tstamp",
            "2014-04-29 09:00:54.001",
            "2014-04-29 09:00:54.000",
            "2014-04-29 09:00:54.000",
            None,
            "2014-04-29 09:00:54.000",
        ),
        (
            "dvce_sent_tstamp after dvce_created_tstamp",
            "2014-04-29 09:00:54.000",
            "2014-04-29 09:00:54.001",
            "2014-04-29 09:00:54.000",
            None,
            "2014-04-29 09:00:53.999",
        ),
        (
            "true_tstamp override",
            "2014-04-29 09:00:54.001",
            "2014-04-29 09:00:54.000",
            "2014-04-29 09:00:54.000",
            "2000-01-01 00:00:00.000",
            "2000-01-01 00:00:00.000",
        ),
    ]
]


@pytest.mark.parametrize("case", cases(DERIVED))
def test_derived_timestamps(case: Case) -> None:
    created, sent, collected, true = (at(text) for text in case.given)
    assert collected is not None
    case.check(timestamp(derived_ms(collected, created, sent, true)))


SIZES = [
    Case(CLIENT, f"ExtractViewDimensionsSpec e1: {name}", value, expected)
    for name, value, expected in [
        ("valid desktop", "1200x800", ("1200", "800")),
        ("valid mobile", "76x128", ("76", "128")),
        ("invalid empty", "", REFUSED),
        ("invalid hex", "76xEE", REFUSED),
        ("invalid negative", "1200x-17", REFUSED),
        # Arabic-Indic digits four to seven, as in the spec.
        ("Arabic number", "\u0664\u0665\u0666\u0667x680", REFUSED),
        ("number > int #1", "760x3389336768", REFUSED),
        ("number > int #2", "9989336768x1200", REFUSED),
    ]
] + [Case(CLIENT, "ExtractViewDimensionsSpec e1: invalid null", None, (None, None))]


@pytest.mark.parametrize("case", cases(SIZES))
def test_screen_sizes(case: Case) -> None:
    reading = read({} if case.given is None else {"res": case.given})
    if refused(reading, "res"):
        case.check(REFUSED)
    else:
        case.check((reading.event.get("dvce_screenwidth"), reading.event.get("dvce_screenheight")))


PLATFORMS = [
    Case(MISC, f"ExtractPlatformSpec e1: {name}", code, expected)
    for name, code, expected in [
        ("valid web", "web", "web"),
        ("valid mobile/tablet", "mob", "mob"),
        ("valid desktop/laptop/netbook", "pc", "pc"),
        ("valid server-side app", "srv", "srv"),
        ("valid general app", "app", "app"),
        ("valid connected TV", "tv", "tv"),
        ("valid games console", "cnsl", "cnsl"),
        ("valid iot (internet of things)", "iot", "iot"),
        ("valid headset", "headset", "headset"),
        ("invalid empty", "", REFUSED),
        ("invalid platform", "ma", REFUSED),
    ]
]


@pytest.mark.parametrize("case", cases(PLATFORMS))
def test_platforms(case: Case) -> None:
    case.check(field_from("p", case.given, "platform"))


def test_an_event_without_its_platform_is_refused() -> None:
    # ExtractPlatformSpec e1: invalid null.
    raw = RawEvent({"e": "pv", "tv": "js-0.13.1"}, PAYLOAD)
    assert refused(read_event(raw, etl_ms=0, etl_version="furrow-test"), "p")


ADDRESSES = [
    Case(MISC, f"ExtractIpSpec e1: {name}", value, expected)
    for name, value, expected in [
        ("single ip", "127.0.0.1", "127.0.0.1"),
        ("ips ', '-separated", "127.0.0.1, 127.0.0.2", "127.0.0.1"),
        ("ips ','-separated", "127.0.0.1,127.0.0.2", "127.0.0.1"),
        ("ips separated out of the spec", "1.0.0.1!1.0.0.2", "1.0.0.1!1.0.0.2"),
        ("empty", "", None),
        ("null", None, None),
    ]
]


@pytest.mark.parametrize("case", cases(ADDRESSES))
def test_ip_parameters(case: Case) -> None:
    case.check(first_address(case.given))
    if case.given:
        assert read({"ip": case.given}).event["user_ipaddress"] == case.expected


ACCEPTED_URL = "Furrow requires `url` to be an absolute URL (its parts fill page_url*): "
ATOMIC_FIELDS: list[Case] = [
    Case(MANAGER, f"set all atomic fields from tracker payload fields: {key}", (key, value), fields)
    for key, value, fields in [
        ("e", "pp", {"event": "page_ping"}),
        ("ip", "192.168.0.1", {"user_ipaddress": "192.168.0.1"}),
        ("aid", "myapp", {"app_id": "myapp"}),
        ("p", "web", {"platform": "web"}),
        ("tid", "42", {"txn_id": "42"}),
        ("uid", "myuser", {"user_id": "myuser"}),
        ("duid", "myduid", {"domain_userid": "myduid"}),
        ("ua", "myua", {"useragent": "myua"}),
        ("fp", "myfp", {"user_fingerprint": "myfp"}),
        ("vid", "42", {"domain_sessionidx": "42"}),
        (
            "sid",
            "6e6e6d0f-f191-4249-8ac8-469db39332a3",
            {"domain_sessionid": "6e6e6d0f-f191-4249-8ac8-469db39332a3"},
        ),
        ("dtm", "1735693323000", {"dvce_created_tstamp": "2025-01-01 01:02:03.000"}),
        ("ttm", "1735693323000", {"true_tstamp": "2025-01-01 01:02:03.000"}),
        ("stm", "1735693323000", {"dvce_sent_tstamp": "2025-01-01 01:02:03.000"}),
        ("tna", "mytna", {"name_tracker": "mytna"}),
        ("tv", "mytv", {"v_tracker": "mytv"}),
        ("lang", "mylang", {"br_lang": "mylang"}),
        *(
            (flag, "1", {field: "1"})
            for flag, field in [
                ("f_pdf", "br_features_pdf"),
                ("f_fla", "br_features_flash"),
                ("f_java", "br_features_java"),
                ("f_dir", "br_features_director"),
                ("f_qt", "br_features_quicktime"),
                ("f_realp", "br_features_realplayer"),
                ("f_wma", "br_features_windowsmedia"),
                ("f_gears", "br_features_gears"),
                ("f_ag", "br_features_silverlight"),
                ("cookie", "br_cookies"),
            ]
        ),
        ("res", "42x420", {"dvce_screenwidth": "42", "dvce_screenheight": "420"}),
        ("cd", "mycd", {"br_colordepth": "mycd"}),
        ("tz", "mytz", {"os_timezone": "mytz"}),
        ("refr", "myrefr", {"page_referrer": "myrefr"}),
        ("page", "mypage", {"page_title": "mypage"}),
        ("cs", "mycs", {"doc_charset": "mycs"}),
        ("ds", "42x420", {"doc_width": "42", "doc_height": "420"}),
        ("vp", "42x420", {"br_viewwidth": "42", "br_viewheight": "420"}),
        (
            "eid",
            "a741bd4c-2365-4c35-92fa-00fe62d71b8d",
            {"event_id": "a741bd4c-2365-4c35-92fa-00fe62d71b8d"},
        ),
        ("ev_ca", "myval", {"se_category": "myval"}),
        ("ev_ac", "myval", {"se_action": "myval"}),
        ("ev_la", "myval", {"se_label": "myval"}),
        ("ev_pr", "myval", {"se_property": "myval"}),
        ("ev_va", "42", {"se_value": "42"}),
        ("se_ca", "myval", {"se_category": "myval"}),
        ("se_ac", "myval", {"se_action": "myval"}),
        ("se_la", "myval", {"se_label": "myval"}),
        ("se_pr", "myval", {"se_property": "myval"}),
        ("se_va", "42", {"se_value": "42"}),
        ("tr_id", "myval", {"tr_orderid": "myval"}),
        ("tr_af", "myval", {"tr_affiliation": "myval"}),
        ("tr_tt", "42", {"tr_total": "42"}),
        ("tr_tx", "42", {"tr_tax": "42"}),
        ("tr_sh", "42", {"tr_shipping": "42"}),
        ("tr_ci", "mycity", {"tr_city": "mycity"}),
        ("tr_st", "mystate", {"tr_state": "mystate"}),
        ("tr_co", "myhome", {"tr_country": "myhome"}),
        ("ti_id", "myorder", {"ti_orderid": "myorder"}),
        ("ti_sk", "mysku", {"ti_sku": "mysku"}),
        ("ti_na", "myname", {"ti_name": "myname"}),
        ("ti_nm", "myname2", {"ti_name": "myname2"}),
        ("ti_ca", "mycat", {"ti_category": "mycat"}),
        ("ti_pr", "42", {"ti_price": "42"}),
        ("ti_qu", "42", {"ti_quantity": "42"}),
        ("pp_mix", "42", {"pp_xoffset_min": "42"}),
        ("pp_max", "42", {"pp_xoffset_max": "42"}),
        ("pp_miy", "42", {"pp_yoffset_min": "42"}),
        ("pp_may", "42", {"pp_yoffset_max": "42"}),
        ("tr_cu", "XYZ", {"tr_currency": "XYZ"}),
        ("ti_cu", "XYZ", {"ti_currency": "XYZ"}),
        ("tnuid", "mytnuid", {"network_userid": "mytnuid"}),
    ]
] + [
    Case(
        MANAGER,
        "set all atomic fields from tracker payload fields: url",
        ("url", "myurl"),
        {"page_url": "myurl"},
        furrow=REFUSED,
        reason=ACCEPTED_URL + "Snowplow keeps a relative `myurl` as the page URL",
    ),
    Case(
        MANAGER,
        "set all atomic fields from tracker payload fields: nuid",
        ("nuid", "mynuid"),
        {"network_userid": "mynuid"},
    ),
    Case(
        MANAGER,
        "set all atomic fields from tracker payload fields: cv",
        ("cv", "mycv"),
        {"v_collector": "mycv"},
    ),
]


@pytest.mark.parametrize("case", cases(ATOMIC_FIELDS))
def test_atomic_fields_from_tracker_parameters(case: Case) -> None:
    key, value = case.given
    reading = read({key: value})
    if refused(reading, key):
        case.check(REFUSED)
    else:
        expected = case.expected if not case.differs else case.furrow
        case.check({field: reading.event.get(field) for field in expected})


USER_AGENTS = [
    Case(
        MANAGER,
        "have a preference of 'ua' query string parameter over user agent of HTTP header",
        "Mozilla/5.0 (X11; Linux x86_64; rv:75.0) Gecko/20100101 Firefox/75.0",
        "Mozilla/5.0 (X11; Linux x86_64; rv:75.0) Gecko/20100101 Firefox/75.0",
    ),
    Case(
        MANAGER,
        "use user agent of HTTP header if 'ua' query string parameter is not set",
        None,
        "header-useragent",
    ),
    Case(
        MANAGER,
        "accept 'ua' in query string when it is not URL decodable",
        "Mozilla/5.0 (X11; Linux x86_64; rv:75.0) Gecko/20100101 %1$s/%2$s Firefox/75.0",
        "Mozilla/5.0 (X11; Linux x86_64; rv:75.0) Gecko/20100101 %1$s/%2$s Firefox/75.0",
    ),
]


@pytest.mark.parametrize("case", cases(USER_AGENTS))
def test_user_agents(case: Case) -> None:
    case.check(read({} if case.given is None else {"ua": case.given}).event["useragent"])


def test_a_header_user_agent_that_is_not_url_decodable() -> None:
    # EnrichmentManagerSpec: "accept user agent of HTTP header when it is not URL decodable".
    useragent = "Mozilla/5.0 (X11; Linux x86_64; rv:75.0) Gecko/20100101 %1$s/%2$s Firefox/75.0"
    payload = CollectorPayload(
        ip_address="37.157.33.123", timestamp_ms=1, collector="c", path="/i", user_agent=useragent
    )
    assert read({}, payload).event["useragent"] == useragent


def test_decimals_never_go_through_a_float() -> None:
    # The issue's examples: the Java tracker's 1.25E7 and a number no float holds.
    assert snowplow_decimal("1.25E7") == "12500000"
    assert snowplow_decimal("1e400") == "1" + "0" * 400


def all_cases() -> list[Any]:
    """Every table of this module, for the docs check in test_snowplow_enrichments."""
    tables: list[list[Case]] = [
        DECIMALS,
        VALID_DECIMALS,
        VALID_INTEGERS,
        INTEGERS,
        BOOLEANS,
        UUIDS,
        BASE64,
        QUERY_STRINGS,
        URIS,
        EVENT_TYPES,
        TIMESTAMPS,
        DERIVED,
        SIZES,
        PLATFORMS,
        ADDRESSES,
        ATOMIC_FIELDS,
        USER_AGENTS,
    ]
    return [case for table in tables for case in table]
