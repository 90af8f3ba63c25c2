"""`ua_parser_config`: the user agent parsed by ua-parser into the derived context
`iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0`, as Snowplow's ua parser
enrichment makes it.

The user agent is `useragent` (the tracker's `ua`, else the request's User-Agent header), else
the collector payload's user agent; an event with neither gets nothing. Parsing uses the regexes
that ship with `ua-parser-builtins`, through the Rust `ua-parser-rs` matcher when installed
(what ua-parser cannot tell is `Other`, as in Snowplow); Snowplow's `uri`/`database` for a custom
regexes file are not supported. Results are cached per user agent (LRU, `CACHE_SIZE` entries,
strings interned) because the same few user agents make most of the traffic.

The enriched event's own browser, OS and device fields (`br_name`, `br_family`, `os_name`,
`dvce_type`, ...) are left as they are: in Snowplow only the user-agent-utils enrichment sets
them, and the same configuration must give the same fields.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from ua_parser import BestAvailableResolver, DefaultedResult, Domain, load_builtins

from libs.formats.enriched import EnrichedEvent
from services.enrich.enrichments.config import Parameters
from services.enrich.model import RawEvent, SelfDescribingJson

NAME = "ua_parser_config"
CONTEXT_SCHEMA = "iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0"
CACHE_SIZE = 5_000


class UaParser:
    """Parses the user agent into a derived context."""

    name = NAME
    reads_derived_contexts = False

    def __init__(self) -> None:
        self._resolver = BestAvailableResolver(load_builtins())
        self._parse = lru_cache(maxsize=CACHE_SIZE)(self._parse_uncached)

    def apply(self, event: EnrichedEvent, raw: RawEvent) -> list[SelfDescribingJson]:
        useragent = event.get("useragent") or raw.payload.user_agent
        if not useragent:
            return []
        # The cached dictionary is only read: the context takes a copy.
        return [{"schema": CONTEXT_SCHEMA, "data": self._parse(useragent).copy()}]

    def _parse_uncached(self, useragent: str) -> dict[str, str | None]:
        result = self._resolver(useragent, Domain.ALL).complete().with_defaults()
        return {name: value and sys.intern(value) for name, value in context_data(result).items()}


def context_data(result: DefaultedResult) -> dict[str, str | None]:
    """The `ua_parser_context` data for a parse result."""
    agent, os, device = result.user_agent, result.os, result.device
    return {
        "useragentFamily": agent.family,
        "useragentMajor": agent.major,
        "useragentMinor": agent.minor,
        "useragentPatch": agent.patch,
        "useragentVersion": _with_version(agent.family, agent.major, agent.minor, agent.patch),
        "osFamily": os.family,
        "osMajor": os.major,
        "osMinor": os.minor,
        "osPatch": os.patch,
        "osPatchMinor": os.patch_minor,
        "osVersion": _with_version(os.family, os.major, os.minor, os.patch, os.patch_minor),
        "deviceFamily": device.family,
    }


def _with_version(family: str, major: str | None, *minors: str | None) -> str:
    """Snowplow's version text: the family, a space and the major, then a dot before each later
    part that is present (an empty part too, as Snowplow tests only for null)."""
    space = "" if major is None else f" {major}"
    return family + space + "".join(f".{m}" for m in minors if m is not None)


class UaParserParameters(Parameters):
    """No parameters: the built-in regexes are always used."""


def from_config(
    parameters: Mapping[str, Any], extras: Mapping[str, Any], directory: Path
) -> UaParser:
    UaParserParameters.model_validate(parameters)
    return UaParser()
