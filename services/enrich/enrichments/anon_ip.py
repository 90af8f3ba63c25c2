"""`anon_ip`: the end of `user_ipaddress` replaced by `x`s, in place.

IPv4 loses its last `anonOctets` octets (`13.54.45.87` → `13.54.x.x` for 2); IPv6 is written as
eight segments without leading zeros and loses its last `anonSegments` (`2001:db8::ff00:42:8329`
→ `2001:db8:0:0:0:ff00:x:x` for 2). Without `anonSegments`, IPv6 loses twice as many segments as
IPv4 loses octets: the same share of the address. A value that is no IP address (`unknown`, sent
for SP-Anonymous requests) is left as it is.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from ipaddress import IPv6Address
from pathlib import Path
from typing import Any, Final

from libs.formats.enriched import EnrichedEvent
from services.enrich.enrichments.parameters import AnonIpParameters
from services.enrich.model import RawEvent, SelfDescribingJson

NAME: Final = "anon_ip"
_OCTET: Final = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4: Final = re.compile(rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}")


class AnonIp:
    """Anonymises `user_ipaddress`."""

    name = NAME
    reads_derived_contexts = False

    def __init__(self, parameters: AnonIpParameters) -> None:
        self._octets = parameters.anon_octets
        self._segments = parameters.anon_segments or min(8, 2 * parameters.anon_octets)
        # Visitors send many events from one address.
        self._anonymised = functools.lru_cache(maxsize=65536)(self.anonymise)

    def apply(self, event: EnrichedEvent, raw: RawEvent) -> list[SelfDescribingJson]:
        address = event.get("user_ipaddress")
        if address:
            event["user_ipaddress"] = self._anonymised(address)
        return []

    def anonymise(self, address: str) -> str:
        """`address` with its end replaced by `x`s; unchanged if it is not an IP address."""
        if ":" in address:
            return self._anonymise_v6(address)
        if _IPV4.fullmatch(address) is None:
            return address
        octets = address.split(".")
        return ".".join(octets[: 4 - self._octets] + ["x"] * self._octets)

    def _anonymise_v6(self, address: str) -> str:
        try:
            parsed = IPv6Address(address)
        except ValueError:
            return address
        segments = [
            format(parsed.packed[i] << 8 | parsed.packed[i + 1], "x") for i in range(0, 16, 2)
        ]
        return ":".join(segments[: 8 - self._segments] + ["x"] * self._segments)


def from_config(
    parameters: Mapping[str, Any], extras: Mapping[str, Any], directory: Path
) -> AnonIp:
    return AnonIp(AnonIpParameters.model_validate(parameters))
