import pytest

from services.enrich.enrichments.ua_parser_config import CONTEXT_SCHEMA, UaParser
from tests.unit.enrichment_inputs import assert_valid, raw_event

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.6099.109 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1"
)
SAFARI_IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/16.6 Mobile/15E148 Safari/604.1"
)
ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/119.0.0.0 Safari/537.36"
)
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
PLAYSTATION = (
    "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/13.0 Safari/605.1.15"
)
IE7 = "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 5.1)"


def context(
    agent: tuple[str, str | None, str | None, str | None, str],
    os: tuple[str, str | None, str | None, str | None, str | None, str],
    device: str,
) -> dict[str, str | None]:
    return {
        "useragentFamily": agent[0],
        "useragentMajor": agent[1],
        "useragentMinor": agent[2],
        "useragentPatch": agent[3],
        "useragentVersion": agent[4],
        "osFamily": os[0],
        "osMajor": os[1],
        "osMinor": os[2],
        "osPatch": os[3],
        "osPatchMinor": os[4],
        "osVersion": os[5],
        "deviceFamily": device,
    }


CASES = [
    (
        CHROME_WINDOWS,
        context(
            ("Chrome", "120", "0", "6099", "Chrome 120.0.6099"),
            ("Windows", "10", None, None, None, "Windows 10"),
            "Other",
        ),
    ),
    (
        SAFARI_IPHONE,
        context(
            ("Mobile Safari", "17", "4", "1", "Mobile Safari 17.4.1"),
            ("iOS", "17", "4", "1", None, "iOS 17.4.1"),
            "iPhone",
        ),
    ),
    (
        SAFARI_IPAD,
        context(
            ("Mobile Safari", "16", "6", None, "Mobile Safari 16.6"),
            ("iOS", "16", "6", None, None, "iOS 16.6"),
            "iPad",
        ),
    ),
    (
        ANDROID_TABLET,
        context(
            ("Chrome", "119", "0", "0", "Chrome 119.0.0"),
            ("Android", "13", None, None, None, "Android 13"),
            "SM-X700",
        ),
    ),
    (
        FIREFOX_LINUX,
        context(
            ("Firefox", "121", "0", None, "Firefox 121.0"),
            ("Linux", None, None, None, None, "Linux"),
            "Other",
        ),
    ),
    (
        GOOGLEBOT,
        context(
            ("Googlebot", "2", "1", None, "Googlebot 2.1"),
            ("Other", None, None, None, None, "Other"),
            "Spider",
        ),
    ),
    (
        PLAYSTATION,
        context(
            ("Safari", "13", "0", None, "Safari 13.0"),
            ("Other", None, None, None, None, "Other"),
            "PlayStation 5",
        ),
    ),
    (
        IE7,
        context(
            ("IE", "7", "0", None, "IE 7.0"),
            ("Windows", "XP", None, None, None, "Windows XP"),
            "Other",
        ),
    ),
    (
        "???",
        context(
            ("Other", None, None, None, "Other"),
            ("Other", None, None, None, None, "Other"),
            "Other",
        ),
    ),
]  # fmt: skip


@pytest.fixture(scope="module")
def parser() -> UaParser:
    return UaParser()


@pytest.mark.parametrize(("useragent", "data"), CASES)
def test_context_from_the_useragent_and_no_atomic_fields(
    parser: UaParser, useragent: str, data: dict[str, str | None]
) -> None:
    # As Snowplow's ua parser enrichment: br_*, os_* and dvce_* stay empty.
    event = {"useragent": useragent}
    contexts = parser.apply(event, raw_event())
    assert event == {"useragent": useragent}
    assert contexts == [{"schema": CONTEXT_SCHEMA, "data": data}]
    assert_valid(contexts)


def test_the_request_user_agent_when_the_event_has_none(parser: UaParser) -> None:
    event: dict[str, str] = {}
    contexts = parser.apply(event, raw_event(user_agent=FIREFOX_LINUX))
    assert event == {}
    assert contexts[0]["data"]["useragentFamily"] == "Firefox"


def test_no_user_agent_no_context(parser: UaParser) -> None:
    event: dict[str, str] = {"event": "page_view"}
    assert parser.apply(event, raw_event()) == []
    assert event == {"event": "page_view"}


def test_cached_parses_give_independent_contexts(parser: UaParser) -> None:
    first = parser.apply({"useragent": GOOGLEBOT}, raw_event())
    first[0]["data"]["useragentFamily"] = "changed by a later enrichment"
    second = parser.apply({"useragent": GOOGLEBOT}, raw_event())
    assert second[0]["data"]["useragentFamily"] == "Googlebot"
