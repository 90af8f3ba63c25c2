"""`ua_parser_config`: the user agent parsed by ua-parser into the derived context
`iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0`, and the browser, OS and
device fields of the enriched event.

The user agent is `useragent` (the tracker's `ua`, else the request's User-Agent header), else
the collector payload's user agent; an event with neither gets nothing. Parsing uses the regexes
that ship with `ua-parser-builtins`, through the Rust `ua-parser-rs` matcher when installed
(what ua-parser cannot tell is `Other`, as in Snowplow); Snowplow's `uri`/`database` for a custom
regexes file are not supported. Results are cached per user agent (LRU, `CACHE_SIZE` entries,
strings interned) because the same few user agents make most of the traffic.

Atomic fields (ua-parser knows no device types, so these are inferred from its families):
`br_family` the browser family (`Chrome Mobile`), `br_name` family and major version
(`Chrome Mobile 120`), `br_version` the dotted version (`120.0.6099`), `br_type` `Robot` for
crawlers, `Browser (mobile)` on phones and tablets, `Browser` on computers and consoles, else
`Unknown`; `os_family` the OS family (`Android`), `os_name` family and version (`Android 14`),
`os_manufacturer` the maker of the OS for the well-known ones (`Google`, `Apple`, `Microsoft`,
...); `dvce_type` `Mobile`, `Tablet`, `Computer`, `Game console` or `Robot` (`Unknown` when it
cannot be told) and `dvce_ismobile` `1` for phones and tablets, `0` for computers and consoles.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from ua_parser import BestAvailableResolver, DefaultedResult, Domain, load_builtins

from libs.formats.enriched import EnrichedEvent
from services.enrich.enrichments.parameters import UaParserParameters
from services.enrich.model import RawEvent, SelfDescribingJson

NAME: Final = "ua_parser_config"
CONTEXT_SCHEMA: Final = "iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0"
CACHE_SIZE: Final = 5_000

_MOBILE_OS: Final = frozenset(
    {
        "iOS",
        "Android",
        "Windows Phone",
        "BlackBerry OS",
        "KaiOS",
        "Symbian OS",
        "Firefox OS",
        "Tizen",
        "HarmonyOS",
        "webOS",
        "Sailfish",
    }
)
_COMPUTER_OS: Final = frozenset(
    {
        "Windows",
        "Mac OS X",
        "macOS",
        "Linux",
        "Ubuntu",
        "Chrome OS",
        "ChromeOS",
        "Fedora",
        "Debian",
        "FreeBSD",
        "OpenBSD",
        "NetBSD",
        "Red Hat",
        "Arch Linux",
        "Mint",
        "Solaris",
    }
)
_OS_MANUFACTURERS: Final = {
    "Android": "Google",
    "Chrome OS": "Google",
    "ChromeOS": "Google",
    "iOS": "Apple",
    "iPadOS": "Apple",
    "Mac OS X": "Apple",
    "macOS": "Apple",
    "Windows": "Microsoft",
    "Windows Phone": "Microsoft",
    "BlackBerry OS": "BlackBerry",
    "HarmonyOS": "Huawei",
    "KaiOS": "KaiOS Technologies",
    "Tizen": "Samsung",
}
_BROWSER_TYPES: Final = {
    "Robot": "Robot",
    "Mobile": "Browser (mobile)",
    "Tablet": "Browser (mobile)",
    "Computer": "Browser",
    "Game console": "Browser",
    "Unknown": "Unknown",
}
_TABLET_MARKERS: Final = (
    "ipad",
    "tablet",
    "kindle",
    "nexus 7",
    "nexus 9",
    "nexus 10",
    "galaxy tab",
)
_CONSOLE_MARKERS: Final = ("playstation", "xbox", "nintendo", "wii", "ouya")


class UaParser:
    """Parses the user agent into a derived context and the `br_*`, `os_*`, `dvce_*` fields."""

    name = NAME
    reads_derived_contexts = False

    def __init__(self) -> None:
        self._resolver = BestAvailableResolver(load_builtins())
        self._parse = lru_cache(maxsize=CACHE_SIZE)(self._parse_uncached)

    def apply(self, event: EnrichedEvent, raw: RawEvent) -> list[SelfDescribingJson]:
        useragent = event.get("useragent") or raw.payload.user_agent
        if not useragent:
            return []
        # The cached dictionaries are only read: the event takes their values, the context a copy.
        fields, context = self._parse(useragent)
        event.update(fields)
        return [{"schema": CONTEXT_SCHEMA, "data": context.copy()}]

    def _parse_uncached(self, useragent: str) -> tuple[dict[str, str], dict[str, str | None]]:
        result = self._resolver(useragent, Domain.ALL).complete().with_defaults()
        fields = atomic_fields(result, useragent)
        context = context_data(result)
        return (
            {name: sys.intern(value) for name, value in fields.items()},
            {name: value and sys.intern(value) for name, value in context.items()},
        )


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


def atomic_fields(result: DefaultedResult, useragent: str) -> dict[str, str]:
    """The enriched event's browser, OS and device fields for a parse result."""
    agent, os = result.user_agent, result.os
    device_type = _device_type(result, useragent)
    fields = {
        "br_family": agent.family,
        "br_name": f"{agent.family} {agent.major}" if agent.major else agent.family,
        "br_type": _BROWSER_TYPES[device_type],
        "os_family": os.family,
        "os_name": _with_version(os.family, os.major, os.minor, os.patch, os.patch_minor),
        "dvce_type": device_type,
    }
    if version := ".".join(part for part in (agent.major, agent.minor, agent.patch) if part):
        fields["br_version"] = version
    if manufacturer := _OS_MANUFACTURERS.get(os.family):
        fields["os_manufacturer"] = manufacturer
    if device_type in ("Mobile", "Tablet"):
        fields["dvce_ismobile"] = "1"
    elif device_type in ("Computer", "Game console"):
        fields["dvce_ismobile"] = "0"
    return fields


def _device_type(result: DefaultedResult, useragent: str) -> str:
    device = result.device.family.lower()
    if device == "spider":
        return "Robot"
    if any(marker in device for marker in _CONSOLE_MARKERS):
        return "Game console"
    os = result.os.family
    if any(marker in device for marker in _TABLET_MARKERS) or (
        os == "Android" and "Mobile" not in useragent
    ):
        return "Tablet"
    if os in _MOBILE_OS or "mobile" in result.user_agent.family.lower():
        return "Mobile"
    if os in _COMPUTER_OS:
        return "Computer"
    return "Unknown"


def _with_version(family: str, *parts: str | None) -> str:
    version = ".".join(part for part in parts if part)
    return f"{family} {version}" if version else family


def from_config(
    parameters: Mapping[str, Any], extras: Mapping[str, Any], directory: Path
) -> UaParser:
    UaParserParameters.model_validate(parameters)
    return UaParser()
