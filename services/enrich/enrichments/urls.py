"""The parts of URLs the enrichments read, faster than `urllib.parse` for the one thing each
needs: enrichments run on every event, and `urlsplit` plus `parse_qsl` cost more than the rest
of an enrichment together."""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import unquote_plus

# scheme://[userinfo@]host[:port][path][?query][#fragment], RFC 3986's shape, leniently.
_URL = re.compile(
    r"([A-Za-z][A-Za-z0-9+.\-]*)://(?:[^/?#@]*@)?(\[[^\]/?#]*\]|[^/?#:]*)(?::[^/?#]*)?"
    r"([^?#]*)(?:\?([^#]*))?"
)


class UrlParts(NamedTuple):
    scheme: str
    host: str
    path: str
    query: str


def split_url(url: str) -> UrlParts | None:
    """Scheme and host (both lower case), path and raw query of an absolute URL; None if `url`
    has no `scheme://`."""
    match = _URL.match(url)
    if match is None:
        return None
    scheme, host, path, query = match.groups()
    return UrlParts(scheme.lower(), host.lower(), path, query or "")


def host_of(url: str) -> str:
    """The lower-case host of an absolute URL, empty if there is none."""
    match = _URL.match(url)
    return match.group(2).lower() if match else ""


def query_of(url: str) -> str:
    """The raw query string of a URL (between `?` and `#`), empty if there is none."""
    return url.partition("#")[0].partition("?")[2]


def query_parameters(query: str) -> dict[str, str]:
    """The parameters of a query string, URL-decoded (`+` is a space); a parameter given more
    than once keeps its first value, one without `=` has the empty value."""
    parameters: dict[str, str] = {}
    for pair in query.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        if "%" in name or "+" in name:
            name = unquote_plus(name)
        if name not in parameters:
            parameters[name] = unquote_plus(value) if "%" in value or "+" in value else value
    return parameters
