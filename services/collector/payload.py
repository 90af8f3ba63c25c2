"""What a tracking request means: the CollectorPayload to store, and the network user id cookie.

Pure functions of the request's facts and the configuration; the HTTP layer gathers the facts.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import parse_qsl

from libs.formats.collector_payload import CollectorPayload
from services.collector.config import CollectorConfig

ANONYMOUS_HEADER = "sp-anonymous"
ANONYMOUS_USER_ID = "00000000-0000-0000-0000-000000000000"
ANONYMOUS_IP = "unknown"
# Headers that identify a person; an SP-Anonymous request is stored without them.
IDENTIFYING_HEADERS = frozenset({"x-forwarded-for", "x-real-ip", "cookie"})
# RFC 6265's cookie-octets: what a cookie value may hold. A `nuid` parameter can be any text.
_COOKIE_VALUE = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]+")


@dataclass(frozen=True, slots=True)
class TrackingRequest:
    """The facts of one HTTP request, as received. Header names are lower case (as in ASGI)."""

    path: str
    query_string: str
    headers: Sequence[tuple[str, str]]
    body: bytes | None
    peer_ip: str
    received_ms: int

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None

    @property
    def anonymous(self) -> bool:
        return self.header(ANONYMOUS_HEADER) is not None


def client_ip(request: TrackingRequest, *, trust_proxy_headers: bool) -> str:
    """The client's address: the first X-Forwarded-For hop, else X-Real-Ip, when the collector is
    configured as behind a trusted proxy; the peer address otherwise."""
    if request.anonymous:
        return ANONYMOUS_IP
    if trust_proxy_headers:
        if forwarded := request.header("x-forwarded-for"):
            first_hop = forwarded.split(",", 1)[0].strip()
            if first_hop:
                return first_hop
        if real_ip := request.header("x-real-ip"):
            return real_ip.strip()
    return request.peer_ip


def cookie_value(request: TrackingRequest, name: str) -> str | None:
    """The value of cookie `name` in the request's Cookie header, if it is there."""
    header = request.header("cookie")
    if header is None or name not in header:
        return None
    for pair in header.split(";"):
        key, _, value = pair.partition("=")
        if key.strip() == name:
            return value.strip().strip('"')
    return None


def network_user_id(request: TrackingRequest, cookie_name: str) -> str:
    """The `nuid` query parameter, else the network user id cookie, else a new UUID."""
    if request.anonymous:
        return ANONYMOUS_USER_ID
    if "nuid=" in request.query_string:
        for name, value in parse_qsl(request.query_string, keep_blank_values=False):
            if name == "nuid":
                return value
    return cookie_value(request, cookie_name) or str(uuid.uuid4())


def is_cookie_value(user_id: str) -> bool:
    """Whether `user_id` can be sent back in a Set-Cookie header as it is."""
    return _COOKIE_VALUE.fullmatch(user_id) is not None


def stored_headers(request: TrackingRequest) -> tuple[str, ...]:
    """The request's headers as `Name: value` lines, without identifying ones when anonymous."""
    return tuple(
        f"{_display_name(name)}: {value}"
        for name, value in request.headers
        if not (request.anonymous and name in IDENTIFYING_HEADERS)
    )


def _display_name(name: str) -> str:
    # ASGI lower-cases header names; enrichers written against other collectors expect the usual
    # capitalisation (Content-Type, X-Forwarded-For).
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))


def collector_payload(
    request: TrackingRequest, *, collector: str, config: CollectorConfig, user_id: str
) -> CollectorPayload:
    """The raw record for `request`, before any splitting."""
    host = request.header("host")
    return CollectorPayload(
        ip_address=client_ip(request, trust_proxy_headers=config.trust_proxy_headers),
        timestamp_ms=request.received_ms,
        collector=collector,
        path=request.path,
        querystring=request.query_string or None,
        body=request.body,
        headers=stored_headers(request),
        content_type=request.header("content-type"),
        user_agent=request.header("user-agent"),
        referer_uri=request.header("referer"),
        hostname=_without_port(host) if host else None,
        network_user_id=user_id,
    )


def _without_port(host: str) -> str:
    if host.startswith("["):  # an IPv6 literal, [::1]:8000
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_do_not_track(request: TrackingRequest, config: CollectorConfig) -> bool:
    """True when the configured do-not-track cookie is present with a matching value."""
    if config.do_not_track_cookie_name is None:
        return False
    value = cookie_value(request, config.do_not_track_cookie_name)
    return value is not None and re.fullmatch(config.do_not_track_cookie_value, value) is not None


def cookie_domain(origin: str | None, config: CollectorConfig) -> str | None:
    """The first configured domain equal to, or a parent of, the Origin's host; else the
    fallback domain; else None (the browser scopes the cookie to the collector's host)."""
    if origin and config.cookie_domains:
        host = _without_port(origin.split("://", 1)[-1].split("/", 1)[0]).lower()
        for domain in config.cookie_domains:
            domain = domain.lower().lstrip(".")
            if host == domain or host.endswith("." + domain):
                return domain
    return config.cookie_fallback_domain


def set_cookie_header(
    user_id: str, origin: str | None, config: CollectorConfig, *, now: datetime
) -> str:
    """The Set-Cookie value carrying the network user id."""
    max_age = int(timedelta(days=config.cookie_expiry_days).total_seconds())
    expires = _http_date(int(now.timestamp()) + max_age)
    parts = [f"{config.cookie_name}={user_id}", f"Expires={expires}", f"Max-Age={max_age}"]
    if domain := cookie_domain(origin, config):
        parts.append(f"Domain={domain}")
    parts.append("Path=/")
    if config.cookie_secure:
        parts.append("Secure")
    if config.cookie_http_only:
        parts.append("HttpOnly")
    parts.append(f"SameSite={config.cookie_same_site}")
    return "; ".join(parts)


@functools.lru_cache(maxsize=4)
def _http_date(epoch_second: int) -> str:
    # Formatting a date is slow next to the rest of a request, and it only changes once a second.
    return format_datetime(datetime.fromtimestamp(epoch_second, UTC), usegmt=True)
