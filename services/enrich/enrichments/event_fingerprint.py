"""`event_fingerprint_config`: `event_fingerprint`, a hash of the event's raw parameters.

Computed as Snowplow's event fingerprint enrichment computes it, so that the same event gets the
same fingerprint from Furrow and from Snowplow: the tracker protocol parameters, minus
`excludeParameters`, sorted by name (in UTF-16 order, as Java compares strings), are written as
name, unit separator (U+001F), value, unit separator, one after the other; the fingerprint is the
lower-case hex digest (`hashAlgorithm`: MD5, SHA1, SHA256, SHA384 or SHA512) of that text in
UTF-8, where a lone surrogate is written `?` as Java writes it. Parameters that differ between
two sends of one event (`eid` when the tracker made none, `stm`, the collector's `nuid`, `cv`)
are excluded by default.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from libs.formats.enriched import EnrichedEvent
from services.enrich.enrichments.config import Parameters
from services.enrich.model import RawEvent, SelfDescribingJson

NAME = "event_fingerprint_config"

_WRITERS_CACHE_SIZE = 1024
_UNIT_SEPARATOR = "\x1f"

_HASHES: dict[str, Callable[[bytes], Any]] = {
    "MD5": hashlib.md5,
    "SHA1": hashlib.sha1,
    "SHA256": hashlib.sha256,
    "SHA384": hashlib.sha384,
    "SHA512": hashlib.sha512,
}


HashAlgorithm = Literal["MD5", "SHA1", "SHA256", "SHA384", "SHA512"]


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
        self._writers: dict[tuple[str, ...], Callable[[Mapping[str, str]], str]] = {}

    def apply(self, event: EnrichedEvent, raw: RawEvent) -> list[SelfDescribingJson]:
        event["event_fingerprint"] = self.fingerprint(raw.parameters)
        return []

    def fingerprint(self, parameters: Mapping[str, str]) -> str:
        """The hex digest of the parameters' names and values, sorted by name."""
        # A tracker sends the same parameters in the same order event after event: the writer of
        # the text to hash is remembered per parameter list.
        listed = tuple(parameters)
        write = self._writers.get(listed)
        if write is None:
            write = parameters_text(
                sorted((name for name in listed if name not in self._excluded), key=_utf16)
            )
            if len(self._writers) < _WRITERS_CACHE_SIZE:
                self._writers[listed] = write
        hashed = self._empty_hash.copy()
        hashed.update(write(parameters).encode("utf-8", "replace"))
        digest: str = hashed.hexdigest()
        return digest


def parameters_text(names: Sequence[str]) -> Callable[[Mapping[str, str]], str]:
    """A function writing each of `names` then its value in the parameters, each followed by
    the unit separator: one %-format of the values, which costs less than joining pairs."""
    template = "".join(
        f"{name.replace('%', '%%')}{_UNIT_SEPARATOR}%s{_UNIT_SEPARATOR}" for name in names
    )
    if not names:
        return lambda parameters: ""
    if len(names) == 1:
        (name,) = names
        return lambda parameters: template % (parameters[name],)
    values = operator.itemgetter(*names)
    return lambda parameters: template % values(parameters)


def _utf16(name: str) -> bytes:
    # Big-endian UTF-16 bytes compare as Java compares strings, by UTF-16 code unit.
    return name.encode("utf-16-be", "surrogatepass")


def from_config(
    parameters: Mapping[str, Any], extras: Mapping[str, Any], directory: Path
) -> EventFingerprint:
    return EventFingerprint(EventFingerprintParameters.model_validate(parameters))
