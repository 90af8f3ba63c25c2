"""Snowplow's vectors for the enrichments Furrow has: event fingerprint, anonymise IP, campaign
attribution, referer parser, cookie and HTTP header extractors, ua parser, the cross-domain
linker and the page URI; and the check that docs/enricher.md lists every deliberate difference."""

from __future__ import annotations

import hashlib
import ipaddress
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from libs.formats.collector_payload import CollectorPayload
from libs.formats.enriched import tsv_safe
from services.enrich.enrichments import campaign_attribution, referer_parser
from services.enrich.enrichments.anon_ip import AnonIp, AnonIpParameters
from services.enrich.enrichments.cookie_extractor import CookieExtractor, CookieExtractorParameters
from services.enrich.enrichments.event_fingerprint import (
    EventFingerprint,
    EventFingerprintParameters,
    parameters_text,
)
from services.enrich.enrichments.http_header_extractor import (
    HttpHeaderExtractor,
    HttpHeaderExtractorParameters,
)
from services.enrich.enrichments.ua_parser_config import UaParser
from services.enrich.model import RawEvent
from services.enrich.protocol import read_event
from tests.unit import test_snowplow_adapters, test_snowplow_conversions, test_snowplow_pii
from tests.unit.snowplow_vectors import Case, cases

REGISTRY = "enrichments/registry/"
ENRICHER_DOCS = Path(__file__).resolve().parents[2] / "docs" / "enricher.md"

# --- EventFingerprintEnrichmentSpec ------------------------------------------------------------

FINGERPRINT = REGISTRY + "EventFingerprintEnrichmentSpec.scala"
STANDARD = EventFingerprint(EventFingerprintParameters(exclude_parameters=("stm", "eid")))


def test_fingerprint_e1_combines_fields() -> None:
    # e1: with a hash that is the text's length, {stm, e=se, se_ac=buy} less stm gives "15":
    # "e", "se" and "se_ac", "buy", each followed by the unit separator.
    names = sorted({"e", "se_ac"})
    assert len(parameters_text(names)({"e": "se", "se_ac": "buy"})) == 15


def test_fingerprint_e2_does_not_depend_on_the_order() -> None:
    initial = {"e": "se", "se_ac": "action", "se_ca": "category", "se_pr": "property"}
    permuted = {"se_ca": "category", "se_ac": "action", "se_pr": "property", "e": "se"}
    assert STANDARD.fingerprint(permuted) == STANDARD.fingerprint(initial)


def test_fingerprint_e3_does_not_depend_on_excluded_fields() -> None:
    initial = {
        "stm": "1000000000000",
        "eid": "123e4567-e89b-12d3-a456-426655440000",
        "e": "se",
        "se_ac": "buy",
    }
    delayed = {"stm": "9999999999999", "e": "se", "se_ac": "buy"}
    assert STANDARD.fingerprint(delayed) == STANDARD.fingerprint(initial)


def test_fingerprint_e4_differs_when_fields_overlap() -> None:
    # e4: names and values that would run together without separators hash differently.
    fingerprints = {
        STANDARD.fingerprint(parameters)
        for parameters in ({"prefix": "suffix"}, {"prefixsuffix": ""}, {"prefixs": "uffix"})
    }
    assert len(fingerprints) == 3


@pytest.mark.parametrize(
    "case",
    cases(
        Case(FINGERPRINT, f"e{n}: {algorithm} length", algorithm, length)
        for n, algorithm, length in [
            (5, "SHA1", 40),
            (6, "SHA256", 64),
            (7, "SHA384", 96),
            (8, "SHA512", 128),
        ]
    ),
)
def test_fingerprint_lengths(case: Case) -> None:
    enrichment = EventFingerprint(
        EventFingerprintParameters(hash_algorithm=case.given, exclude_parameters=("stm", "eid"))
    )
    fingerprint = enrichment.fingerprint({"e": "se", "se_ac": "action"})
    case.check(len(fingerprint))
    # And it is the digest of Snowplow's text, not merely of the right length.
    text = b"e\x1fse\x1fse_ac\x1faction\x1f"
    assert fingerprint == hashlib.new(case.given.replace("SHA", "sha").lower(), text).hexdigest()


# --- AnonIpEnrichmentSpec ----------------------------------------------------------------------

ANON_IP = REGISTRY + "AnonIpEnrichmentSpec.scala"
ANONYMISED = [
    Case(ANON_IP, f"e1: {name} ({address})", (address, octets, segments), expected)
    for name, address, octets, segments, expected in [
        ("valid, anonymize 1", "0.23.0.20", 1, 1, "0.23.0.x"),
        ("valid, anonymize 2", "168.192.102.4", 2, 2, "168.192.x.x"),
        ("valid, anonymize 3", "54.242.102.43", 3, 3, "54.x.x.x"),
        ("valid, anonymize 4", "94.15.213.171", 4, 4, "x.x.x.x"),
        ("invalid, anonymize 1", "777.2", 1, 1, "777.2"),
        ("invalid, anonymize 4", "777.2.23", 4, 4, "x.x.x"),
        ("invalid, anonymize 3", "999.123.777.2", 3, 3, "999.x.x.x"),
        ("invalid, anonymize 3", "999.aaa.bbb.c", 3, 3, "999.x.x.x"),
        ("invalid, anonymize 3", "hello;goodbye", 3, 3, "hello;goodbye"),
        ("empty, anonymize 4", "", 4, 4, "x"),
        ("ipv6, anonymize 1", "4b0c:0:0:0:880c:99a8:4b0:4411", 1, 1, "4b0c:0:0:0:880c:99a8:4b0:x"),
        ("ipv6, anonymize 2", "4b0c::880c:99a8:4b0:4411", 2, 2, "4b0c:0:0:0:880c:99a8:x:x"),
        ("ipv6, anonymize 3", "2605:2700:0:3:0:0:4713:93e3", 3, 3, "2605:2700:0:3:0:x:x:x"),
        ("ipv6, anonymize 4", "2605:2700:0:3::4713:93e3", 4, 4, "2605:2700:0:3:x:x:x:x"),
        ("ipv6, anonymize 5", "2605:2700:0:3::4713:93e3", 4, 5, "2605:2700:0:x:x:x:x:x"),
        ("ipv6, anonymize 6", "2605:2700:0:3::4713:93e3", 4, 6, "2605:2700:x:x:x:x:x:x"),
        ("ipv6, anonymize 7", "2605:2700:0:3::4713:93e3", 4, 7, "2605:x:x:x:x:x:x:x"),
        ("ipv6, anonymize 8", "2605:2700:0:3::4713:93e3", 4, 8, "x:x:x:x:x:x:x:x"),
        ("ipv6, anonymize 8", "2605:2700::4713:93e3", 4, 8, "x:x:x:x:x:x:x:x"),
        ("ipv6, anonymize 8", "2700::4713", 4, 8, "x:x:x:x:x:x:x:x"),
        ("ipv6, anonymize 8", "2700:zzzz::gggg", 4, 6, "2700:zzzz:x:x:x:x:x:x"),
        ("hybrid ipv6 + ipv4", "f334::40cb:152.16.24.142", 4, 2, "f334:0:0:0:0:40cb:x:x"),
        ("hybrid ipv6 + ipv4", "f334::40cb:152.16.24.142", 4, 4, "f334:0:0:0:x:x:x:x"),
        ("ipv6, compat address", "::192.168.0.1", 4, 1, "0:0:0:0:0:0:c0a8:x"),
        ("ipv4 mapped address", "::FFFF:152.16.24.123", 2, 4, "::FFFF:152.16.x.x"),
        ("ipv4 mapped address", "::FFFF:152.16.24.123", 4, 4, "::FFFF:x.x.x.x"),
    ]
]


@pytest.mark.parametrize("case", cases(ANONYMISED))
def test_anonymised_addresses(case: Case) -> None:
    address, octets, segments = case.given
    case.check(
        AnonIp(AnonIpParameters(anon_octets=octets, anon_segments=segments)).anonymise(address)
    )


def test_anon_ip_e1_null_address() -> None:
    # e1 "null, anonymize 2": an event without an address keeps none.
    event: dict[str, str] = {}
    AnonIp(AnonIpParameters(anon_octets=2, anon_segments=2)).apply(event, _raw({}))
    assert event == {}


def _valid_with_x(anonymised: str, version: int) -> bool:
    return ipaddress.ip_address(anonymised.replace("x", "1")).version == version


IPV4 = st.lists(st.integers(0, 255), min_size=4, max_size=4).map(lambda o: ".".join(map(str, o)))
SEGMENT = st.text("0123456789abcdef", min_size=4, max_size=4)


@settings(max_examples=200, derandomize=True)
@given(IPV4, st.integers(1, 4))
def test_anon_ip_e2_ipv4_has_n_xs(address: str, octets: int) -> None:
    anonymised = AnonIp(AnonIpParameters(anon_octets=octets, anon_segments=1)).anonymise(address)
    assert anonymised.count("x") == octets
    assert _valid_with_x(anonymised, 4)


@settings(max_examples=200, derandomize=True)
@given(st.lists(SEGMENT, min_size=8, max_size=8).map(":".join), st.integers(1, 8))
def test_anon_ip_e3_ipv6_has_n_xs(address: str, segments: int) -> None:
    anon_ip = AnonIp(AnonIpParameters(anon_octets=1, anon_segments=segments))
    anonymised = anon_ip.anonymise(address)
    assert anonymised.count("x") == segments
    assert _valid_with_x(anonymised, 6)


@settings(max_examples=200, derandomize=True)
@given(st.lists(SEGMENT, min_size=2, max_size=7), st.integers(1, 8))
def test_anon_ip_e4_shortened_ipv6_has_n_xs(parts: list[str], segments: int) -> None:
    address = ":".join(parts[:-1]) + "::" + parts[-1]
    anon_ip = AnonIp(AnonIpParameters(anon_octets=1, anon_segments=segments))
    anonymised = anon_ip.anonymise(address)
    assert anonymised.count("x") == segments
    assert _valid_with_x(anonymised, 6)


# --- CampaignAttributionEnrichmentSpec ---------------------------------------------------------

CAMPAIGN = REGISTRY + "CampaignAttributionEnrichmentSpec.scala"
GOOGLE = [
    ("utm_source", "GoogleSearch"),
    ("utm_medium", "cpc"),
    ("utm_term", "native american tarot deck"),
    ("utm_content", "39254295088"),
    ("utm_campaign", "uk-tarot--native-american"),
]
OMNITURE = [("cid", "uk-tarot--native-american")]
HETEROGENEOUS = [
    ("utm_source", "GoogleSearch"),
    ("source", "bad_source"),
    ("utm_medium", "cpc"),
    ("legacy_term", "bad_term"),
    ("utm_term", "native american tarot deck"),
    ("legacy_campaign", "bad_campaign"),
    ("cid", "uk-tarot--native-american"),
]
CLICK_ID = [*HETEROGENEOUS, ("msclkid", "500")]
PRECEDENCE = {
    "mktMedium": ["utm_medium", "medium"],
    "mktSource": ["utm_source", "source"],
    "mktTerm": ["utm_term", "legacy_term"],
    "mktContent": ["utm_content"],
    "mktCampaign": ["utm_campaign", "cid", "legacy_campaign"],
}
NONE = {key: [] for key in ["mktMedium", "mktSource", "mktTerm", "mktContent", "mktCampaign"]}
MARKETING = ("medium", "source", "term", "content", "campaign", "clickid", "network")
CAMPAIGNS = [
    Case(CAMPAIGN, "e1: no campaign fields", (NONE, GOOGLE), (None,) * 7),
    Case(
        CAMPAIGN,
        "e2: standard Google-style settings",
        (
            {
                "mktMedium": ["utm_medium"],
                "mktSource": ["utm_source"],
                "mktTerm": ["utm_term"],
                "mktContent": ["utm_content"],
                "mktCampaign": ["utm_campaign"],
            },
            GOOGLE,
        ),
        (
            "cpc",
            "GoogleSearch",
            "native american tarot deck",
            "39254295088",
            "uk-tarot--native-american",
            None,
            None,
        ),
    ),
    Case(
        CAMPAIGN,
        "e3: standard Omniture settings",
        ({**NONE, "mktCampaign": ["cid"]}, OMNITURE),
        (None, None, None, None, "uk-tarot--native-american", None, None),
    ),
    Case(
        CAMPAIGN,
        "e4: order of precedence",
        (PRECEDENCE, HETEROGENEOUS),
        (
            "cpc",
            "GoogleSearch",
            "native american tarot deck",
            None,
            "uk-tarot--native-american",
            None,
            None,
        ),
    ),
    Case(
        CAMPAIGN,
        "e5: clickId and network fields",
        (
            {
                **PRECEDENCE,
                "mktClickId": {"gclid": "Google", "msclkid": "Microsoft", "dclid": "DoubleClick"},
            },
            CLICK_ID,
        ),
        (
            "cpc",
            "GoogleSearch",
            "native american tarot deck",
            None,
            "uk-tarot--native-american",
            "500",
            "Microsoft",
        ),
    ),
]


@pytest.mark.parametrize("case", cases(CAMPAIGNS))
def test_campaign_attribution(case: Case) -> None:
    fields, query = case.given
    enrichment = campaign_attribution.from_config({"fields": fields}, {}, Path("."))
    event = {"page_url": "http://www.example.com/?" + urlencode(query)}
    enrichment.apply(event, _raw({}))
    case.check(tuple(event.get(f"mkt_{name}") for name in MARKETING))


# --- RefererParserEnrichmentSpec ---------------------------------------------------------------

REFERER = REGISTRY + "RefererParserEnrichmentSpec.scala"
PAGE = "http://www.snowplowanalytics.com/"
REFERERS = [
    Case(REFERER, f"e1: {name}", uri, expected)
    for name, uri, expected in [
        (
            "Google search",
            "http://www.google.com/search?q=gateway+oracle+cards+denise+linn&hl=en&client=safari",
            ("search", "Google", "gateway oracle cards denise linn"),
        ),
        (
            "Facebook social",
            "http://www.facebook.com/l.php?u=http%3A%2F%2Fwww.psychicbazaar.com&h=yAQHZtXxS&s=1",
            ("social", "Facebook", None),
        ),
        (
            "Yahoo! Mail",
            "http://36ohk6dgmcd1n-c.c.yom.mail.yahoo.net/om/api/1.0/openmail.app.invoke/"
            "36ohk6dgmcd1n/11/1.0.35/us/en-US/view.html/0",
            ("email", "Yahoo! Mail", None),
        ),
        (
            "Internal referer",
            "https://www.snowplowanalytics.com/account/profile",
            ("internal", None, None),
        ),
        ("Custom referer", "https://www.internaldomain.com/path", ("internal", None, None)),
        (
            "Unknown referer",
            "http://www.spyfu.com/domain.aspx?d=3897225171967988459",
            ("unknown", None, None),
        ),
    ]
] + [
    Case(
        REFERER,
        "e2: tabs and newlines in search terms",
        "http://www.google.com/search?q=%0Agateway%09oracle%09cards%09denise%09linn&hl=en"
        "&client=safari",
        ("search", "Google", "gateway    oracle    cards    denise    linn"),
    )
]


@pytest.mark.parametrize("case", cases(REFERERS))
def test_referers(case: Case) -> None:
    enrichment = referer_parser.from_config(
        {"internalDomains": ["www.internaldomain.com"]}, {}, Path(".")
    )
    event = {"page_url": PAGE, "page_referrer": case.given}
    enrichment.apply(event, _raw({}))
    case.check(tuple(event.get(f"refr_{name}") for name in ("medium", "source", "term")))


# --- CookieExtractorEnrichmentSpec, HttpHeaderExtractorEnrichmentSpec ---------------------------

COOKIE = REGISTRY + "CookieExtractorEnrichmentSpec.scala"
HEADER = REGISTRY + "HttpHeaderExtractorEnrichmentSpec.scala"
COOKIES = [
    Case(COOKIE, "e1: no cookie header", (["cookieKey1"], ["Content-Length: 348"]), []),
    Case(
        COOKIE,
        "e2: no cookie matches",
        (["cookieKey1"], ["Cookie: not-interesting-cookie=1234;"]),
        [],
    ),
    Case(
        COOKIE,
        "e3: contexts for found cookies",
        (
            ["ck1", "", "ck3", "ck4", "ck5"],
            ["Cookie: " + ";".join(["ck1", "=cv2", "ck3=", "ck4=cv4", 'ck5="cv5"'])],
        ),
        [
            {"name": "ck1", "value": None},
            {"name": "", "value": "cv2"},
            {"name": "ck3", "value": ""},
            {"name": "ck4", "value": "cv4"},
            {"name": "ck5", "value": "cv5"},
        ],
    ),
]


@pytest.mark.parametrize("case", cases(COOKIES))
def test_cookies(case: Case) -> None:
    names, headers = case.given
    extractor = CookieExtractor(CookieExtractorParameters(cookies=tuple(names)))
    contexts = extractor.apply({}, _raw({}, headers=headers))
    assert {c["schema"] for c in contexts} <= {"iglu:org.ietf/http_cookie/jsonschema/1-0-0"}
    case.check([c["data"] for c in contexts])


HEADERS = [
    Case(
        HEADER,
        "e1: X-Forwarded-For header",
        ("X-Forwarded-For", ["X-Forwarded-For: 129.78.138.66, 129.78.64.103"]),
        [{"name": "X-Forwarded-For", "value": "129.78.138.66, 129.78.64.103"}],
    ),
    Case(
        HEADER,
        "e2: Accept header after Regex matching",
        (".*", ["Accept: text/html"]),
        [{"name": "Accept", "value": "text/html"}],
    ),
    Case(HEADER, "e3: no headers", (".*", []), []),
]


@pytest.mark.parametrize("case", cases(HEADERS))
def test_headers(case: Case) -> None:
    pattern, headers = case.given
    extractor = HttpHeaderExtractor(HttpHeaderExtractorParameters(headers_pattern=pattern))
    contexts = extractor.apply({}, _raw({}, headers=headers))
    assert {c["schema"] for c in contexts} <= {"iglu:org.ietf/http_header/jsonschema/1-0-0"}
    case.check([c["data"] for c in contexts])


# --- UaParserEnrichmentSpec --------------------------------------------------------------------

UA_PARSER = REGISTRY + "UaParserEnrichmentSpec.scala"
USER_AGENTS = [
    Case(
        UA_PARSER,
        "parse useragent according to configured rules: mobile Safari",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 5_1_1 like Mac OS X) AppleWebKit/534.46 "
        "(KHTML, like Gecko) Version/5.1 Mobile/9B206 Safari/7534.48.3",
        {
            "useragentFamily": "Mobile Safari",
            "useragentMajor": "5",
            "useragentMinor": "1",
            "useragentPatch": None,
            "useragentVersion": "Mobile Safari 5.1",
            "osFamily": "iOS",
            "osMajor": "5",
            "osMinor": "1",
            "osPatch": "1",
            "osPatchMinor": None,
            "osVersion": "iOS 5.1.1",
            "deviceFamily": "iPhone",
        },
    ),
    Case(
        UA_PARSER,
        "parse useragent according to configured rules: Safari",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10) AppleWebKit/600.1.25 (KHTML, like Gecko) "
        "Version/8.0 Safari/600.1.25",
        {
            "useragentFamily": "Safari",
            "useragentMajor": "8",
            "useragentMinor": "0",
            "useragentPatch": None,
            "useragentVersion": "Safari 8.0",
            "osFamily": "Mac OS X",
            "osMajor": "10",
            "osMinor": "10",
            "osPatch": None,
            "osPatchMinor": None,
            "osVersion": "Mac OS X 10.10",
            "deviceFamily": "Mac",
        },
    ),
]


@pytest.mark.parametrize("case", cases(USER_AGENTS))
def test_user_agents(case: Case) -> None:
    event = {"useragent": case.given}
    (context,) = UaParser().apply(event, _raw({}))
    case.check(context["data"])
    # As in Snowplow, the enrichment leaves the event's browser and OS fields empty.
    assert event == {"useragent": case.given}


# --- ParseCrossDomainSpec, ExtractPageUriSpec --------------------------------------------------

CROSS_DOMAIN = "enrichments/web/ParseCrossDomainSpec.scala"
PAGE_URI = "enrichments/web/ExtractPageUriSpec.scala"
LINKER = ("refr_domain_userid", "refr_device_tstamp")
CROSS_DOMAINS = [
    Case(CROSS_DOMAIN, "e1: empty querystring", "", (None, None)),
    Case(CROSS_DOMAIN, "e2: no _sp parameter", "foo=bar", (None, None)),
    Case(CROSS_DOMAIN, "e3: _sp without value", "_sp", (None, None)),
    Case(
        CROSS_DOMAIN,
        "e4: unparseable _sp timestamp",
        "_sp=abc.not-a-timestamp",
        "<enrichment failure>",
        furrow=("abc", None),
        reason="the linker's parameter is written into page URLs, where any page or person "
        "can damage it: Furrow keeps the event and the user id and drops the time, where "
        "Snowplow makes the event a bad row",
    ),
    Case(CROSS_DOMAIN, "e5: domain user ID", "_sp=abc", ("abc", None)),
    Case(
        CROSS_DOMAIN,
        "e6: domain user ID and timestamp",
        "_sp=abc.1426245561368",
        ("abc", "2015-03-13 11:19:21.368"),
    ),
    Case(CROSS_DOMAIN, "e7: empty _sp parameter", "_sp=", (None, None)),
]


@pytest.mark.parametrize("case", cases(CROSS_DOMAINS))
def test_cross_domain_linker(case: Case) -> None:
    url = "http://www.example.com/page" + (f"?{case.given}" if case.given else "")
    event = _read({"url": url})
    case.check(tuple(event.get(field) for field in LINKER))


ORIGINAL = "http://www.mysite.com/shop/session/_internal/checkout"
CUSTOM = "http://www.mysite.com/shop/checkout"
PAGE_URIS = [
    Case(PAGE_URI, "e1: no page URI", (None, None), None),
    Case(PAGE_URI, "e2: both URIs match", (ORIGINAL, ORIGINAL), ORIGINAL),
    Case(PAGE_URI, "e2: tracker didn't send URI", (ORIGINAL, None), ORIGINAL),
    Case(PAGE_URI, "e2: collector didn't record the referer", (None, ORIGINAL), ORIGINAL),
    Case(
        PAGE_URI, "e2: collector and tracker URIs differ - use tracker", (ORIGINAL, CUSTOM), CUSTOM
    ),
    Case(PAGE_URI, "e3: browser-truncated page URL", (ORIGINAL, ORIGINAL[:-5]), ORIGINAL[:-5]),
]


@pytest.mark.parametrize("case", cases(PAGE_URIS))
def test_page_uri(case: Case) -> None:
    from_referer, from_tracker = case.given
    parameters = {} if from_tracker is None else {"url": from_tracker}
    case.check(_read(parameters, referer=from_referer).get("page_url"))


# --- conversionUtilsSpecs FixTabsNewlinesSpec: text made safe for the TSV -----------------------

TABS = "utils/conversionUtilsSpecs.scala"
SAFE_TEXT = [
    Case(TABS, f"FixTabsNewlinesSpec e1: {name}", text, expected)
    for name, text, expected in [
        ("Empty string", "", None),
        ("String with true-tab", "\t", "    "),
        ("String with \\t", "\t", "    "),
        ("String with \\\\t", "\\\t", "\\    "),
        ("String with \\b", "\b", None),
        ("String ending in newline", "Hello\n", "Hello"),
        ("String with control char", "\u0002", None),
        ("String with space", " ", " "),
        ("String with black diamond", "�", "�"),
        ("String with everything", "Hi\t\u0002�\u0020\bJo\t\u0002", "Hi    � Jo    "),
    ]
]


@pytest.mark.parametrize("case", cases(SAFE_TEXT))
def test_text_is_made_tsv_safe(case: Case) -> None:
    case.check(tsv_safe(case.given) or None)
    # As the page title of an event, where the enricher applies it.
    case.check(_read({"page": case.given}).get("page_title"))


# --- helpers and the docs ----------------------------------------------------------------------


def _raw(
    parameters: dict[str, str],
    headers: list[str] | tuple[str, ...] = (),
    referer: str | None = None,
) -> RawEvent:
    payload = CollectorPayload(
        ip_address="37.157.33.123",
        timestamp_ms=1_377_735_528_000,
        collector="furrow-test",
        path="/i",
        headers=tuple(headers),
        referer_uri=referer,
    )
    return RawEvent({"e": "pv", "p": "web", "tv": "js-0.13.1", **parameters}, payload)


def _read(parameters: dict[str, str], referer: str | None = None) -> dict[str, str]:
    reading = read_event(_raw(parameters, referer=referer), etl_ms=0, etl_version="furrow-test")
    assert reading.violations == []
    return reading.event


def every_case() -> list[Case]:
    modules: list[Any] = [test_snowplow_conversions, test_snowplow_adapters, test_snowplow_pii]
    own = [
        ANONYMISED,
        CAMPAIGNS,
        REFERERS,
        COOKIES,
        HEADERS,
        USER_AGENTS,
        CROSS_DOMAINS,
        PAGE_URIS,
        SAFE_TEXT,
    ]
    return [c for table in own for c in table] + [c for m in modules for c in m.all_cases()]


def test_the_docs_list_every_deliberate_difference() -> None:
    docs = ENRICHER_DOCS.read_text()
    listed = set(re.findall(r"^- `([^`]+)` «([^»]+)»", docs, re.MULTILINE))
    differences = {(c.spec.rsplit("/", 1)[-1], c.name) for c in every_case() if c.differs}
    assert differences, "no difference marked: the docs' section is stale"
    assert differences - listed == set(), "add these to docs/enricher.md's deliberate differences"
    assert listed - differences == set(), "docs/enricher.md lists differences no test marks"
