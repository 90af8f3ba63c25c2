"""What the enricher makes of one raw record, knowing nothing of Kafka: good events as enriched
TSV lines, and bad rows that say why, one output for every event."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import orjson

from libs.formats import badrows
from libs.formats.collector_payload import CollectorPayload, CollectorPayloadError, decode
from libs.formats.enriched import EnrichedEvent, to_tsv
from libs.formats.iglu import IgluError
from libs.iglu_client import Issue, ResolutionError
from libs.version import VERSION
from services.enrich.adapters import Adapted, adapt
from services.enrich.model import Enrichment, EnrichmentFailure, RawEvent, SelfDescribingJson
from services.enrich.protocol import read_event
from services.enrich.rules import Deduplicator, ValidityRules

logger = logging.getLogger(__name__)

COMPONENT = "enrich"
ETL_VERSION = f"furrow-enrich-{VERSION}"
DERIVED_CONTEXTS = "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1"
# The schema Snowplow names when an atomic field cannot be read from its parameter.
ATOMIC = "iglu:com.snowplowanalytics.snowplow/atomic/jsonschema/1-0-0"
# What a duplicate sent again by a retrying tracker or collector may differ in.
NOT_IN_FINGERPRINT = frozenset({"eid", "nuid", "stm", "cv"})


EnrichmentApply = Callable[[EnrichedEvent, RawEvent], list[SelfDescribingJson]]


class Validator(Protocol):
    def validate(self, instance: dict[str, Any]) -> list[Issue]: ...


@dataclass
class Outputs:
    good: list[str] = field(default_factory=list)
    bad: list[bytes] = field(default_factory=list)
    duplicates: int = 0
    # The type of each row of `bad`, in order, for metrics.
    bad_kinds: list[str] = field(default_factory=list)

    def add_bad(self, kind: str, row: bytes) -> None:
        self.bad.append(row)
        self.bad_kinds.append(kind)

    def mark(self) -> tuple[int, int, int]:
        """Where the outputs end now, for `roll_back`."""
        return len(self.good), len(self.bad), self.duplicates

    def roll_back(self, mark: tuple[int, int, int]) -> None:
        """Forget what was added since `mark`."""
        good, bad, self.duplicates = mark
        del self.good[good:]
        del self.bad[bad:]
        del self.bad_kinds[bad:]


@dataclass
class Enricher:
    validator: Validator
    enrichments: Sequence[Enrichment] = ()
    rules: ValidityRules = field(default_factory=ValidityRules)
    deduplicator: Deduplicator | None = None
    telemetry_vendor: str = "org.sunbird.telemetry"
    max_event_bytes: int = 1_000_000
    # Each enrichment with its bound `apply` and its flag, fetched once rather than per event.
    _steps: list[tuple[Enrichment, EnrichmentApply, bool]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._steps = [(e, e.apply, e.reads_derived_contexts) for e in self.enrichments]

    def enrich(self, raw: bytes, *, now: datetime, outputs: Outputs | None = None) -> Outputs:
        """The outputs for one raw record (appended to `outputs` when given). An exception no
        one expected (a bug) leaves the record's outputs at a `generic_error` bad row carrying
        it, so the service goes on and the record can be replayed once the bug is fixed;
        read again after a crash instead, it would crash the enricher every time."""
        outputs = outputs if outputs is not None else Outputs()
        mark = outputs.mark()
        try:
            self._enrich(raw, now, outputs)
        except Exception as error:
            outputs.roll_back(mark)
            logger.exception("a raw record made the enricher fail; it goes to bad")
            outputs.add_bad(
                "generic_error", badrows.unexpected_error(COMPONENT, raw, error, now=now)
            )
        return outputs

    def _enrich(self, raw: bytes, now: datetime, outputs: Outputs) -> None:
        try:
            payload = decode(raw)
        except CollectorPayloadError as error:
            outputs.add_bad(
                "collector_payload_format_violation",
                badrows.collector_payload_format_violation(COMPONENT, raw, str(error), now=now),
            )
            return
        adapted = self.adapt(payload, now=now, outputs=outputs)
        for raw_event in adapted.events:
            self.enrich_event(raw_event, adapted.vendor, adapted.version, now, outputs)

    def adapt(self, payload: CollectorPayload, *, now: datetime, outputs: Outputs) -> Adapted:
        """The events of one request, its adapter's and protocol's bad rows added to `outputs`;
        each event is then enriched by `enrich_event`."""
        adapted = adapt(payload, self._check, telemetry_vendor=self.telemetry_vendor)
        if adapted.adapter_failures:
            outputs.add_bad(
                "adapter_failures",
                badrows.adapter_failures(
                    COMPONENT,
                    payload,
                    adapted.vendor,
                    adapted.version,
                    adapted.adapter_failures,
                    now=now,
                ),
            )
        if adapted.protocol_violations:
            outputs.add_bad(
                "tracker_protocol_violations",
                badrows.tracker_protocol_violations(
                    COMPONENT,
                    payload,
                    adapted.vendor,
                    adapted.version,
                    adapted.protocol_violations,
                    now=now,
                ),
            )
        return adapted

    def _check(self, instance: SelfDescribingJson) -> list[str]:
        return [f"{issue.path}: {issue.message}" for issue in self._validate(instance)[1]]

    def _validate(
        self, instance: SelfDescribingJson
    ) -> tuple[str, list[Issue], dict[str, Any] | None]:
        """The schema URI, the issues, and, when the instance could not be validated, the
        `schema_violations` message that says why."""
        uri = str(instance.get("schema"))
        try:
            return uri, self.validator.validate(instance), None
        except IgluError:
            return uri, [], {"json": instance, "error": "INVALID_IGLUURI"}
        except ResolutionError as unresolved:
            error = {"error": "ResolutionError", "lookupHistory": unresolved.lookup_history}
            return uri, [], {"schemaKey": uri, "error": error}

    def enrich_event(
        self, raw: RawEvent, vendor: str, version: str, now: datetime, outputs: Outputs
    ) -> None:
        """Add one event's output to `outputs`: an enriched line, a bad row, or a duplicate."""
        reading = read_event(raw, etl_ms=int(now.timestamp() * 1000), etl_version=ETL_VERSION)
        event = reading.event
        if reading.violations:
            # One bad row lists every problem: unreadable atomic fields go with the violations.
            violations = reading.violations + [
                {"field": e.parameter, "value": e.value, "expectation": e.message}
                for e in reading.atomic_errors
            ]
            outputs.add_bad(
                "tracker_protocol_violations",
                badrows.tracker_protocol_violations(
                    COMPONENT, raw.payload, vendor, version, violations, now=now
                ),
            )
            return
        schema_messages: list[dict[str, Any]] = []
        if reading.atomic_errors:
            schema_messages.append(
                {
                    "schemaKey": ATOMIC,
                    "error": {
                        "error": "ValidationError",
                        "dataReports": [e.data_report() for e in reading.atomic_errors],
                    },
                }
            )
        instances = [reading.unstruct_event] if reading.unstruct_event else []
        for instance in [*instances, *reading.contexts]:
            uri, issues, unvalidated = self._validate(instance)
            if unvalidated is not None:
                schema_messages.append(unvalidated)
            elif issues:
                schema_messages.append(
                    {
                        "schemaKey": uri,
                        "error": {
                            "error": "ValidationError",
                            "dataReports": [
                                {
                                    "message": i.message,
                                    "path": i.path,
                                    "keyword": i.keyword,
                                    "targets": i.targets,
                                }
                                for i in issues
                            ],
                        },
                    }
                )
        if schema_messages:
            outputs.add_bad(
                "schema_violations",
                badrows.schema_violations(
                    COMPONENT,
                    _enrichment_payload(event, raw, vendor, version),
                    schema_messages,
                    now=now,
                ),
            )
            return
        derived: list[SelfDescribingJson] = []
        failures: list[dict[str, Any]] = []
        for enrichment, apply, reads_derived_contexts in self._steps:
            try:
                if reads_derived_contexts:
                    derived = _through_event(enrichment, event, raw, derived)
                else:
                    derived.extend(apply(event, raw))
            except EnrichmentFailure as failure:
                failures.append(
                    {
                        "enrichment": {
                            "schemaKey": failure.schema_key,
                            "identifier": failure.enrichment[:256],
                        },
                        "message": {"error": failure.message[:512]},
                    }
                )
        # A validation is named by no enrichment, as in Snowplow's rows.
        failures.extend(
            {"enrichment": None, "message": {"error": problem[:512]}}
            for problem in self.rules.problems(event)
        )
        if failures:
            outputs.add_bad(
                "enrichment_failures",
                badrows.enrichment_failures(
                    COMPONENT, _enrichment_payload(event, raw, vendor, version), failures, now=now
                ),
            )
            return
        if derived:
            event["derived_contexts"] = orjson.dumps(
                {"schema": DERIVED_CONTEXTS, "data": derived}
            ).decode()
        if self.deduplicator is not None and self.deduplicator.is_duplicate(
            event["event_id"], event.get("event_fingerprint") or _fingerprint(raw), now.timestamp()
        ):
            outputs.duplicates += 1
            return
        line = to_tsv(event)
        # Encoded only when it might be too big: a character is at most four bytes of UTF-8.
        if len(line) * 4 > self.max_event_bytes and len(line.encode()) > self.max_event_bytes:
            outputs.add_bad(
                "size_violation",
                badrows.size_violation(
                    COMPONENT,
                    maximum_bytes=self.max_event_bytes,
                    actual_bytes=len(line.encode()),
                    expectation="an enriched event must fit in one Kafka record",
                    payload=line[: self.max_event_bytes // 10],
                    now=now,
                ),
            )
            return
        outputs.good.append(line)


def _through_event(
    enrichment: Enrichment, event: EnrichedEvent, raw: RawEvent, derived: list[SelfDescribingJson]
) -> list[SelfDescribingJson]:
    """Apply an enrichment that reads (and may change) the derived contexts of the ones before
    it: they are in the event while it runs, and read back after, with its own added."""
    if derived:
        event["derived_contexts"] = orjson.dumps(
            {"schema": DERIVED_CONTEXTS, "data": derived}
        ).decode()
    added = enrichment.apply(event, raw)
    text = event.pop("derived_contexts", None)
    return [*(orjson.loads(text)["data"] if text else []), *added]


def _fingerprint(raw: RawEvent) -> str:
    parameters = sorted((k, v) for k, v in raw.parameters.items() if k not in NOT_IN_FINGERPRINT)
    return hashlib.md5(orjson.dumps(parameters), usedforsecurity=False).hexdigest()


def _enrichment_payload(
    event: EnrichedEvent, raw: RawEvent, vendor: str, version: str
) -> dict[str, Any]:
    return {
        "enriched": badrows.partially_enriched(event),
        "raw": badrows.raw_event_fields(raw.payload, vendor, version, raw.parameters),
    }
