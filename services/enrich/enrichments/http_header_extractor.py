"""`http_header_extractor_config`: request headers whose name matches a pattern, as derived
contexts.

`headersPattern` is a regular expression (Python syntax, which agrees with Java's for the usual
patterns) that must match the whole header name; unlike Snowplow it ignores case, as HTTP does
for header names (`x-forwarded-for` and `X-Forwarded-For` are one header). Each matching header
gives one `iglu:org.ietf/http_header/jsonschema/1-0-0` context `{"name": ..., "value": ...}`,
the name as the collector stored it, in request order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import field_validator

from libs.formats.enriched import EnrichedEvent
from services.enrich.enrichments.config import Parameters
from services.enrich.model import RawEvent, SelfDescribingJson

NAME = "http_header_extractor_config"
HEADER_SCHEMA = "iglu:org.ietf/http_header/jsonschema/1-0-0"

# Header names repeat from request to request; remembering the verdict for a bounded number of
# them saves a regex match per header per event.
_NAME_CACHE_SIZE = 4096


class HttpHeaderExtractorParameters(Parameters):
    headers_pattern: str

    @field_validator("headers_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as error:
            raise ValueError(f"headersPattern is not a regular expression: {error}") from error
        return value


class HttpHeaderExtractor:
    """Derived contexts for the headers whose name matches the pattern."""

    name = NAME
    reads_derived_contexts = False

    def __init__(self, parameters: HttpHeaderExtractorParameters) -> None:
        self._pattern = re.compile(parameters.headers_pattern, re.IGNORECASE)
        self._verdicts: dict[str, bool] = {}
        # The events of one POST share their request: its headers are read once.
        self._last_headers: tuple[str, ...] | None = None
        self._last_matches: list[tuple[str, str]] = []

    def apply(self, event: EnrichedEvent, raw: RawEvent) -> list[SelfDescribingJson]:
        headers = raw.payload.headers
        if headers is not self._last_headers:
            self._last_matches = self.matching(headers)
            self._last_headers = headers
        return [
            {"schema": HEADER_SCHEMA, "data": {"name": name, "value": value}}
            for name, value in self._last_matches
        ]

    def matching(self, headers: tuple[str, ...]) -> list[tuple[str, str]]:
        """(name, value) of the headers whose name matches the pattern, in request order."""
        found: list[tuple[str, str]] = []
        verdicts = self._verdicts
        for header in headers:
            colon = header.find(":")
            if colon <= 0:
                continue
            name = header[:colon]
            wanted = verdicts.get(name)
            if wanted is None:
                wanted = self._pattern.fullmatch(name.strip()) is not None
                if len(verdicts) < _NAME_CACHE_SIZE:
                    verdicts[name] = wanted
            if wanted:
                found.append((name.strip(), header[colon + 1 :].strip()))
        return found


def from_config(
    parameters: Mapping[str, Any], extras: Mapping[str, Any], directory: Path
) -> HttpHeaderExtractor:
    return HttpHeaderExtractor(HttpHeaderExtractorParameters.model_validate(parameters))
