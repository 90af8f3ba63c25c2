"""`anon_ip`: the end of `user_ipaddress` replaced by `x`s, in place, as Snowplow's anon IP
enrichment does it.

IPv4 loses its last `anonOctets` octets (`13.54.45.87` → `13.54.x.x` for 2), an IPv4-mapped
address too, after its `::FFFF:` prefix. IPv6 is written as eight segments without leading zeros
and loses its last `anonSegments` (`2001:db8::ff00:42:8329` → `2001:db8:0:0:0:ff00:x:x` for 2);
without `anonSegments`, as many segments as `anonOctets`. Text that is no address is treated as
Snowplow treats it: with a dot (or empty) its dot-separated parts are masked from the end
(`777.2.23` → `x.x.x` for 4), with a colon its colon-separated parts are, padded to eight
(`2700:zzzz::gggg` → `2700:zzzz:x:x:x:x:x:x` for 6); anything else (`unknown`, from an
`SP-Anonymous` request) is left as it is.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from ipaddress import IPv6Address
from pathlib import Path
from typing import Any

from pydantic import Field

from libs.formats.enriched import EnrichedEvent
from services.enrich.enrichments.config import Parameters
from services.enrich.model import RawEvent, SelfDescribingJson

NAME = "anon_ip"
_MASK = "x"
# How Snowplow writes the prefix it keeps in front of an IPv4-mapped address.
_MAPPED_PREFIX = "::FFFF:"


class AnonIpParameters(Parameters):
    anon_octets: int = Field(ge=1, le=4)
    anon_segments: int | None = Field(default=None, ge=1, le=8)


class AnonIp:
    """Anonymises `user_ipaddress`."""

    name = NAME
    reads_derived_contexts = False

    def __init__(self, parameters: AnonIpParameters) -> None:
        self._octets = parameters.anon_octets
        self._segments = parameters.anon_segments or parameters.anon_octets
        # Visitors send many events from one address.
        self._anonymised = functools.lru_cache(maxsize=65536)(self.anonymise)

    def apply(self, event: EnrichedEvent, raw: RawEvent) -> list[SelfDescribingJson]:
        address = event.get("user_ipaddress")
        if address:
            event["user_ipaddress"] = self._anonymised(address)
        return []

    def anonymise(self, address: str) -> str:
        """`address` with its end replaced by `x`s."""
        if ":" in address:
            try:
                parsed = IPv6Address(address)
            except ValueError:
                parsed = None
            if parsed is not None and parsed.ipv4_mapped is None:
                segments = [
                    format(parsed.packed[i] << 8 | parsed.packed[i + 1], "x")
                    for i in range(0, 16, 2)
                ]
                return self._mask_v6(segments)
            if parsed is None and "." not in address:
                return self._mask_v6(_java_split(address, ":"))
        elif address and "." not in address:
            return address
        # An IPv4 address, an IPv4-mapped one, or text with dots.
        if address.startswith(_MAPPED_PREFIX):
            return _MAPPED_PREFIX + self._mask_v4(address.replace(_MAPPED_PREFIX, ""))
        return self._mask_v4(address)

    def _mask_v4(self, address: str) -> str:
        parts = _java_split(address, ".")
        kept = parts[: max(4 - self._octets, 0)]
        return ".".join(kept + [_MASK] * (len(parts) - len(kept)))

    def _mask_v6(self, segments: list[str]) -> str:
        kept = segments[: 8 - self._segments]
        return ":".join(kept + [_MASK] * (8 - len(kept)))


def _java_split(text: str, separator: str) -> list[str]:
    """`text.split(separator)` as Java splits: trailing empty parts are dropped."""
    if separator not in text:
        return [text]
    parts = text.split(separator)
    while parts and not parts[-1]:
        parts.pop()
    return parts


def from_config(
    parameters: Mapping[str, Any], extras: Mapping[str, Any], directory: Path
) -> AnonIp:
    return AnonIp(AnonIpParameters.model_validate(parameters))
