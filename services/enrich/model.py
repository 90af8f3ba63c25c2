"""What enrichment works on: one tracker event with the request it came in, and the enrichments
that add to the enriched event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from libs.formats.collector_payload import CollectorPayload
from libs.formats.enriched import EnrichedEvent

SelfDescribingJson = dict[str, Any]
"""`{"schema": "iglu:vendor/name/format/M-R-A", "data": ...}`."""


@dataclass(frozen=True, slots=True)
class RawEvent:
    """One event in the tracker protocol, after the adapter for its path has read the request."""

    parameters: dict[str, str]
    """Tracker protocol parameters (`e`, `p`, `tv`, `url`, `ue_pr`, `cx`, ...), already decoded
    from the query string or the POST body; query-string parameters of a POST apply to every
    event of its batch and are merged in."""

    payload: CollectorPayload
    """The request as the collector stored it: IP, user agent, referer, headers, timestamp."""


class EnrichmentFailure(Exception):
    """An enrichment could not do its work on this event; the event becomes an
    `enrichment_failures` bad row that names the enrichment and says why."""

    def __init__(self, enrichment: str, message: str, *, schema_key: str | None = None) -> None:
        super().__init__(f"{enrichment}: {message}")
        self.enrichment = enrichment
        self.message = message
        # The schema of the enrichment's configuration, which names it in the bad row.
        self.schema_key = (
            schema_key or f"iglu:com.snowplowanalytics.snowplow/{enrichment}/jsonschema/1-0-0"
        )


class Enrichment(Protocol):
    """One configured enrichment. `apply` is called once per event, after the tracker protocol
    fields are in `event` (page_url and its parts, user_ipaddress, useragent, collector_tstamp,
    ...), in the order enrichments are listed by `load_enrichments`."""

    @property
    def name(self) -> str:
        """The enrichment's name as in its configuration file, e.g. `ua_parser_config`."""
        ...

    @property
    def reads_derived_contexts(self) -> bool:
        """True if `apply` reads or changes the derived contexts of the enrichments before it:
        they are then in `event["derived_contexts"]` (and read back from there) while it runs.
        Otherwise that field is absent during enrichment, which saves encoding it each time."""
        ...

    def apply(self, event: EnrichedEvent, raw: RawEvent) -> list[SelfDescribingJson]:
        """Set or change fields of `event` in place; return the derived contexts it adds (empty
        if none). Raise EnrichmentFailure when the event cannot be enriched."""
        ...
