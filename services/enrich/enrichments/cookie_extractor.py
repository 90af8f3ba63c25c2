"""`cookie_extractor_config`: the configured cookies of the request as derived contexts.

For every cookie of the stored `Cookie` header(s) whose name is in `cookies` (exact, case
sensitive, as cookie names are), one `iglu:org.ietf/http_cookie/jsonschema/1-0-0` context
`{"name": ..., "value": ...}`, in the order the request sent them, read as Snowplow's cookie
extractor reads them: a value in double quotes loses its quotes, and a cookie with no `=` has the
value null. Requests sent with `SP-Anonymous` were stored without a Cookie header, so they give
none.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from libs.formats.enriched import EnrichedEvent
from services.enrich.enrichments.config import Parameters
from services.enrich.model import RawEvent, SelfDescribingJson

NAME = "cookie_extractor_config"
COOKIE_SCHEMA = "iglu:org.ietf/http_cookie/jsonschema/1-0-0"
# Furrow's collector stores `Cookie:`; other collectors may keep the lower case of HTTP/2.
_COOKIE_HEADERS = ("Cookie:", "cookie:", "COOKIE:")


class CookieExtractorParameters(Parameters):
    cookies: tuple[str, ...]


class CookieExtractor:
    """Derived contexts for the configured cookies."""

    name = NAME
    reads_derived_contexts = False

    def __init__(self, parameters: CookieExtractorParameters) -> None:
        self._names = frozenset(parameters.cookies)
        # The events of one POST share their request: its cookies are read once.
        self._last_headers: tuple[str, ...] | None = None
        self._last_cookies: list[tuple[str, str | None]] = []

    def apply(self, event: EnrichedEvent, raw: RawEvent) -> list[SelfDescribingJson]:
        headers = raw.payload.headers
        if headers is not self._last_headers:
            self._last_cookies = self.cookies(headers)
            self._last_headers = headers
        return [
            {"schema": COOKIE_SCHEMA, "data": {"name": name, "value": value}}
            for name, value in self._last_cookies
        ]

    def cookies(self, headers: tuple[str, ...]) -> list[tuple[str, str | None]]:
        """(name, value) of the configured cookies in the Cookie headers, in request order."""
        found: list[tuple[str, str | None]] = []
        for header in headers:
            if header[:1] not in "Cc" or not header.startswith(_COOKIE_HEADERS):
                continue
            for pair in header[7:].split(";"):
                name, equals, value = pair.partition("=")
                name = name.strip()
                if name in self._names:
                    found.append((name, _unquoted(value.strip()) if equals else None))
        return found


def _unquoted(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def from_config(
    parameters: Mapping[str, Any], extras: Mapping[str, Any], directory: Path
) -> CookieExtractor:
    return CookieExtractor(CookieExtractorParameters.model_validate(parameters))
