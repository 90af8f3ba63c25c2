from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.collector.config import CollectorConfig
from services.collector.payload import (
    ANONYMOUS_USER_ID,
    TrackingRequest,
    client_ip,
    collector_payload,
    cookie_domain,
    cookie_value,
    is_cookie_value,
    is_do_not_track,
    network_user_id,
    set_cookie_header,
    stored_headers,
)

FORWARDED = ("x-forwarded-for", "198.51.100.1, 10.0.0.1")
REAL_IP = ("x-real-ip", "198.51.100.2")
ANONYMOUS = ("sp-anonymous", "*")


def request(
    *headers: tuple[str, str], query: str = "", body: bytes | None = None
) -> TrackingRequest:
    return TrackingRequest(
        path="/i",
        query_string=query,
        headers=list(headers),
        body=body,
        peer_ip="192.0.2.9",
        received_ms=1_795_000_000_000,
    )


@pytest.mark.parametrize(
    ("headers", "trusted", "expected"),
    [
        ((), False, "192.0.2.9"),
        ((FORWARDED,), False, "192.0.2.9"),
        ((FORWARDED,), True, "198.51.100.1"),
        ((REAL_IP,), True, "198.51.100.2"),
        ((FORWARDED, REAL_IP), True, "198.51.100.1"),
        ((("x-forwarded-for", " , 10.0.0.1"), REAL_IP), True, "198.51.100.2"),
        ((FORWARDED, ANONYMOUS), True, "unknown"),
        ((ANONYMOUS,), False, "unknown"),
    ],
)
def test_client_ip(headers: tuple[tuple[str, str], ...], trusted: bool, expected: str) -> None:
    assert client_ip(request(*headers), trust_proxy_headers=trusted) == expected


COOKIE = ("cookie", "_ga=1; sp=from-cookie")


@pytest.mark.parametrize(
    ("headers", "query", "expected"),
    [
        ((COOKIE,), "e=pv&nuid=from-query", "from-query"),
        ((COOKIE,), "e=pv", "from-cookie"),
        ((COOKIE,), "e=pv&nuid=", "from-cookie"),
        ((), "e=pv&nuid=a%20b", "a b"),
        ((COOKIE, ANONYMOUS), "nuid=from-query", ANONYMOUS_USER_ID),
    ],
)
def test_network_user_id_priority(
    headers: tuple[tuple[str, str], ...], query: str, expected: str
) -> None:
    assert network_user_id(request(*headers, query=query), "sp") == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("sp=abc", "abc"),
        ("a=1; sp=abc; b=2", "abc"),
        ("a=1;sp=abc", "abc"),
        ('sp="quoted"', "quoted"),
        ("spx=1; xsp=2", None),
        ("sp=", ""),
        ("garbage;;; =; sp=ok", "ok"),
    ],
)
def test_cookie_value(header: str | None, expected: str | None) -> None:
    headers = (("cookie", header),) if header is not None else ()
    assert cookie_value(request(*headers), "sp") == expected


def test_a_new_visitor_gets_a_fresh_uuid() -> None:
    first = network_user_id(request(), "sp")
    second = network_user_id(request(), "sp")
    assert len(first) == 36 and first.count("-") == 4
    assert first != second


def test_headers_are_stored_with_usual_capitalisation() -> None:
    stored = stored_headers(request(("content-type", "application/json"), FORWARDED))
    assert stored == ("Content-Type: application/json", "X-Forwarded-For: 198.51.100.1, 10.0.0.1")


def test_anonymous_requests_lose_identifying_headers() -> None:
    stored = stored_headers(
        request(("user-agent", "UA"), FORWARDED, REAL_IP, ("cookie", "sp=1"), ANONYMOUS)
    )
    assert stored == ("User-Agent: UA", "Sp-Anonymous: *")


@pytest.mark.parametrize(
    ("origin", "domains", "fallback", "expected"),
    [
        ("https://www.acme.com", ["acme.com"], None, "acme.com"),
        ("https://acme.com:8443", ["acme.com"], None, "acme.com"),
        ("https://shop.acme.co.uk", ["acme.com", "acme.co.uk"], None, "acme.co.uk"),
        ("https://notacme.com", ["acme.com"], "fallback.com", "fallback.com"),
        ("https://other.org", ["acme.com"], None, None),
        (None, ["acme.com"], "fallback.com", "fallback.com"),
        ("https://www.acme.com", [], None, None),
        ("https://WWW.ACME.COM", [".acme.com"], None, "acme.com"),
    ],
)
def test_cookie_domain(
    origin: str | None, domains: list[str], fallback: str | None, expected: str | None
) -> None:
    config = CollectorConfig(cookie_domains=domains, cookie_fallback_domain=fallback)
    assert cookie_domain(origin, config) == expected


def test_set_cookie_header_has_every_attribute() -> None:
    config = CollectorConfig(cookie_domains=["acme.com"])
    header = set_cookie_header(
        "uid-1", "https://www.acme.com", config, now=datetime(2026, 11, 23, tzinfo=UTC)
    )
    assert header == (
        "sp=uid-1; Expires=Tue, 23 Nov 2027 00:00:00 GMT; Max-Age=31536000; Domain=acme.com; "
        "Path=/; Secure; HttpOnly; SameSite=None"
    )


def test_set_cookie_header_follows_configuration() -> None:
    config = CollectorConfig(
        cookie_name="nuid",
        cookie_expiry_days=1,
        cookie_secure=False,
        cookie_http_only=False,
        cookie_same_site="Lax",
    )
    header = set_cookie_header("u", None, config, now=datetime(2026, 11, 23, tzinfo=UTC))
    assert header == (
        "nuid=u; Expires=Tue, 24 Nov 2026 00:00:00 GMT; Max-Age=86400; Path=/; SameSite=Lax"
    )


@pytest.mark.parametrize(
    ("name", "pattern", "cookie", "expected"),
    [
        (None, ".*", "dnt=1", False),
        ("dnt", ".*", "dnt=1", True),
        ("dnt", "yes|1", "a=b; dnt=1", True),
        ("dnt", "yes", "dnt=yes-please", False),
        ("dnt", ".*", "other=1", False),
    ],
)
def test_do_not_track_cookie(name: str | None, pattern: str, cookie: str, expected: bool) -> None:
    config = CollectorConfig(do_not_track_cookie_name=name, do_not_track_cookie_value=pattern)
    assert is_do_not_track(request(("cookie", cookie)), config) is expected


@pytest.mark.parametrize(
    ("host", "hostname"),
    [
        ("c.example.com:8000", "c.example.com"),
        ("c.example.com", "c.example.com"),
        ("[::1]:80", "[::1]"),
    ],
)
def test_collector_payload_fields(host: str, hostname: str) -> None:
    tracking = request(
        ("host", host),
        ("user-agent", "Mozilla/5.0"),
        ("referer", "https://shop.example.com/a"),
        ("content-type", "application/json; charset=utf-8"),
        query="aid=shop",
        body=b"{}",
    )
    payload = collector_payload(
        tracking, collector="furrow-test", config=CollectorConfig(), user_id="u-1"
    )
    assert payload.ip_address == "192.0.2.9"
    assert payload.timestamp_ms == 1_795_000_000_000
    assert payload.path == "/i"
    assert payload.querystring == "aid=shop"
    assert payload.body == b"{}"
    assert payload.user_agent == "Mozilla/5.0"
    assert payload.referer_uri == "https://shop.example.com/a"
    assert payload.content_type == "application/json; charset=utf-8"
    assert payload.hostname == hostname
    assert payload.network_user_id == "u-1"
    assert payload.collector == "furrow-test"
    assert f"Host: {host}" in payload.headers


@pytest.mark.parametrize(
    ("user_id", "expected"),
    [
        ("6f1a0c1e-2b9d-4c3e-8f00-1234567890ab", True),
        ("visitor-7", True),
        ("", False),
        ("a b", False),
        ("a;b", False),
        ('"quoted"', False),
        ("€", False),
        ("x\r\nSet-Cookie: y=1", False),
    ],
)
def test_is_cookie_value(user_id: str, expected: bool) -> None:
    assert is_cookie_value(user_id) is expected
