"""`cookie_extractor_config`: the configured cookies of the request as derived contexts.

For every cookie of the stored `Cookie` header(s) whose name is in `cookies` (exact, case
sensitive, as cookie names are), one `iglu:org.ietf/http_cookie/jsonschema/1-0-0` context
`{"name": ..., "value": ...}`, in the order the request sent them. Values are kept as sent
(quotes included). Requests sent with `SP-Anonymous` were stored without a Cookie header, so they
give none.
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

    def __init__(self, parameters: CookieExtractorParameters) -> None:
        self._names = frozenset(parameters.cookies)

    def apply(self, event: EnrichedEvent, raw: RawEvent) -> list[SelfDescribingJson]:
        contexts: list[SelfDescribingJson] = []
        for header in raw.payload.headers:
            if not header.startswith(_COOKIE_HEADERS):
                continue
            for pair in header[7:].split(";"):
                name, equals, value = pair.partition("=")
                name = name.strip()
                if equals and name in self._names:
                    data = {"name": name, "value": value.strip()}
                    contexts.append({"schema": COOKIE_SCHEMA, "data": data})
        return contexts


def from_config(
    parameters: Mapping[str, Any], extras: Mapping[str, Any], directory: Path
) -> CookieExtractor:
    return CookieExtractor(CookieExtractorParameters.model_validate(parameters))
