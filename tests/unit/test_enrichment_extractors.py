import pytest

from services.enrich.enrichments.cookie_extractor import CookieExtractor, CookieExtractorParameters
from services.enrich.enrichments.http_header_extractor import (
    HttpHeaderExtractor,
    HttpHeaderExtractorParameters,
)
from services.enrich.model import SelfDescribingJson
from tests.unit.enrichment_inputs import assert_valid, raw_event

HEADERS = (
    "Host: collector.example.com",
    "User-Agent: Mozilla/5.0",
    "Accept-Language: en-GB,en;q=0.9",
    "Cookie: _ga=GA1.2.3; sp=4d0c2f1e; empty=; novalue; _fbp=fb.1.2",
    "X-Forwarded-For: 203.0.113.7, 10.0.0.1",
    "Origin: https://shop.example.com",
)


def cookie(name: str, value: str | None) -> SelfDescribingJson:
    return {
        "schema": "iglu:org.ietf/http_cookie/jsonschema/1-0-0",
        "data": {"name": name, "value": value},
    }


def header(name: str, value: str) -> SelfDescribingJson:
    return {
        "schema": "iglu:org.ietf/http_header/jsonschema/1-0-0",
        "data": {"name": name, "value": value},
    }


@pytest.mark.parametrize(
    ("names", "headers", "expected"),
    [
        (("sp",), HEADERS, [cookie("sp", "4d0c2f1e")]),
        (("_fbp", "_ga"), HEADERS, [cookie("_ga", "GA1.2.3"), cookie("_fbp", "fb.1.2")]),
        # A cookie without `=` has no value, as in Snowplow (CookieExtractorEnrichmentSpec e3).
        (("empty", "novalue"), HEADERS, [cookie("empty", ""), cookie("novalue", None)]),
        (("SP", "missing"), HEADERS, []),
        (("sp",), (), []),
        # Other collectors store lower-case names; several Cookie headers all count.
        (
            ("a", "b"),
            ("cookie: a=1", "Cookie: b=2; a=3"),
            [cookie("a", "1"), cookie("b", "2"), cookie("a", "3")],
        ),
        (("a",), ('Cookie: a="quoted value"',), [cookie("a", "quoted value")]),
        ((), HEADERS, []),
    ],
)
def test_configured_cookies_become_http_cookie_contexts(
    names: tuple[str, ...], headers: tuple[str, ...], expected: list[SelfDescribingJson]
) -> None:
    extractor = CookieExtractor(CookieExtractorParameters(cookies=names))
    event: dict[str, str] = {}
    contexts = extractor.apply(event, raw_event(headers=headers))
    assert contexts == expected
    assert event == {}
    assert_valid(contexts)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("Origin", [header("Origin", "https://shop.example.com")]),
        ("origin", [header("Origin", "https://shop.example.com")]),
        (
            "Accept-Language|X-Forwarded-For",
            [
                header("Accept-Language", "en-GB,en;q=0.9"),
                header("X-Forwarded-For", "203.0.113.7, 10.0.0.1"),
            ],
        ),
        ("X-.*", [header("X-Forwarded-For", "203.0.113.7, 10.0.0.1")]),
        # The whole name must match.
        ("Orig", []),
        (".*", [header(*line.split(": ", 1)) for line in HEADERS]),
    ],
)
def test_headers_whose_name_matches_become_http_header_contexts(
    pattern: str, expected: list[SelfDescribingJson]
) -> None:
    extractor = HttpHeaderExtractor(HttpHeaderExtractorParameters(headers_pattern=pattern))
    contexts = extractor.apply({}, raw_event(headers=HEADERS))
    assert contexts == expected
    assert_valid(contexts)
    # Verdicts are remembered per header name; a second event gets the same answer.
    assert extractor.apply({}, raw_event(headers=HEADERS)) == expected


def test_a_header_line_without_colon_is_skipped() -> None:
    extractor = HttpHeaderExtractor(HttpHeaderExtractorParameters(headers_pattern=".*"))
    assert extractor.apply({}, raw_event(headers=("garbage", "A: b"))) == [header("A", "b")]


def test_a_line_without_colon_does_not_decide_for_a_header_of_that_name() -> None:
    extractor = HttpHeaderExtractor(HttpHeaderExtractorParameters(headers_pattern=".*"))
    extractor.apply({}, raw_event(headers=("garbage",)))
    assert extractor.apply({}, raw_event(headers=("garbag: x",))) == [header("garbag", "x")]


def test_events_of_one_request_each_get_their_own_contexts() -> None:
    raw = raw_event(headers=HEADERS)
    cookies = CookieExtractor(CookieExtractorParameters(cookies=("sp",)))
    headers = HttpHeaderExtractor(HttpHeaderExtractorParameters(headers_pattern="Origin"))
    for extractor, expected in (
        (cookies, cookie("sp", "4d0c2f1e")),
        (headers, header("Origin", "https://shop.example.com")),
    ):
        first = extractor.apply({}, raw)
        first[0]["data"]["value"] = "masked by a later enrichment"
        assert extractor.apply({}, raw) == [expected]
        assert extractor.apply({}, raw_event(headers=("Cookie: sp=other", "Origin: o"))) != [
            expected
        ]
