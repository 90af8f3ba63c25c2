"""`event_fingerprint_config`: `event_fingerprint`, a hash of the event's raw parameters.

The tracker protocol parameters, minus `excludeParameters`, are sorted by name and written as
name then value with nothing between (`aidshope` + `epv` + ...), as Snowplow does, so the same
event gets the same fingerprint from Furrow and from Snowplow; the fingerprint is the lower-case
hex digest of that text in UTF-8. Parameters that differ between two sends of one event (`eid`
when the tracker made none, `stm`, the collector's `nuid`, `cv`) are excluded by default.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from libs.formats.enriched import EnrichedEvent
from services.enrich.enrichments.config import Parameters
from services.enrich.model import RawEvent, SelfDescribingJson

NAME = "event_fingerprint_config"

_NAMES_CACHE_SIZE = 1024

HashAlgorithm = Literal["MD5", "SHA1", "SHA256", "SHA384", "SHA512"]

_HASHES: dict[str, Callable[[bytes], Any]] = {
    "MD5": hashlib.md5,
    "SHA1": hashlib.sha1,
    "SHA256": hashlib.sha256,
    "SHA384": hashlib.sha384,
    "SHA512": hashlib.sha512,
}


class EventFingerprintParameters(Parameters):
    hash_algorithm: HashAlgorithm = "MD5"
    exclude_parameters: tuple[str, ...] = ("cv", "eid", "nuid", "stm")


class EventFingerprint:
    """Sets `event_fingerprint`."""

    name = NAME
    reads_derived_contexts = False

    def __init__(self, parameters: EventFingerprintParameters) -> None:
        # Copying a hash object is cheaper than making one: OpenSSL 3 looks the algorithm up
        # again for every new object.
        self._empty_hash = _HASHES[parameters.hash_algorithm](b"")
        self._excluded = frozenset(parameters.exclude_parameters)
        self._names: dict[tuple[str, ...], tuple[str, ...]] = {}

    def apply(self, event: EnrichedEvent, raw: RawEvent) -> list[SelfDescribingJson]:
        event["event_fingerprint"] = self.fingerprint(raw.parameters)
        return []

    def fingerprint(self, parameters: Mapping[str, str]) -> str:
        """The hex digest of the parameters' names and values, sorted by name."""
        # A tracker sends the same parameters in the same order event after event: the sorted
        # names to hash are remembered per parameter list.
        listed = tuple(parameters)
        names = self._names.get(listed)
        if names is None:
            names = tuple(sorted(name for name in listed if name not in self._excluded))
            if len(self._names) < _NAMES_CACHE_SIZE:
                self._names[listed] = names
        text = "".join([name + parameters[name] for name in names])
        hashed = self._empty_hash.copy()
        hashed.update(text.encode("utf-8", "surrogatepass"))
        digest: str = hashed.hexdigest()
        return digest


def from_config(
    parameters: Mapping[str, Any], extras: Mapping[str, Any], directory: Path
) -> EventFingerprint:
    return EventFingerprint(EventFingerprintParameters.model_validate(parameters))
