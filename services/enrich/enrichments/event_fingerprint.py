"""`event_fingerprint_config`: `event_fingerprint`, a hash of the event's raw parameters.

The tracker protocol parameters, minus `excludeParameters`, are sorted by name and written as
name then value with nothing between (`aidshope` + `epv` + ...), as Snowplow does, so the same
event gets the same fingerprint from Furrow and from Snowplow; the fingerprint is the lower-case
hex digest of that text in UTF-8. Parameters that differ between two sends of one event (`eid`
when the tracker made none, `stm`, the collector's `nuid`, `cv`) are excluded by default.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from libs.formats.enriched import EnrichedEvent
from services.enrich.enrichments.parameters import EventFingerprintParameters
from services.enrich.model import RawEvent, SelfDescribingJson

NAME: Final = "event_fingerprint_config"

_WRITERS_CACHE_SIZE: Final = 1024

_HASHES: Final[dict[str, Callable[[bytes], Any]]] = {
    "MD5": hashlib.md5,
    "SHA1": hashlib.sha1,
    "SHA256": hashlib.sha256,
    "SHA384": hashlib.sha384,
    "SHA512": hashlib.sha512,
}


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
            write = parameters_text(sorted(name for name in listed if name not in self._excluded))
            if len(self._writers) < _WRITERS_CACHE_SIZE:
                self._writers[listed] = write
        hashed = self._empty_hash.copy()
        hashed.update(write(parameters).encode("utf-8", "surrogatepass"))
        digest: str = hashed.hexdigest()
        return digest


def parameters_text(names: Sequence[str]) -> Callable[[Mapping[str, str]], str]:
    """A function writing each of `names` then its value in the parameters, with nothing
    between: one %-format of the values, which costs less than joining name-value pairs."""
    template = "".join(name.replace("%", "%%") + "%s" for name in names)
    if not names:
        return lambda parameters: ""
    if len(names) == 1:
        (name,) = names
        return lambda parameters: template % (parameters[name],)
    values = operator.itemgetter(*names)
    return lambda parameters: template % values(parameters)


def from_config(
    parameters: Mapping[str, Any], extras: Mapping[str, Any], directory: Path
) -> EventFingerprint:
    return EventFingerprint(EventFingerprintParameters.model_validate(parameters))
