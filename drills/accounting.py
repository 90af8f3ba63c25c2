"""Exact accounting of one drill, pure: which events were owed (answered 200), where each one
ended up in Elasticsearch, and what is missing, doubled or in the wrong index."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from drills.traffic import Index
from libs.formats import badrows

# Events out of place shown in a drill's report, with their bad rows: enough to say what shape
# the rows had, few enough to read.
MAX_OFFENDERS = 3


@dataclass(frozen=True)
class Sent:
    """One event sent, with the collector's answer (None: no answer, the request failed)."""

    event_id: str
    belongs_in: Index
    status: int | None


@dataclass(frozen=True)
class BadRowEvent:
    """The event a bad row stands for, and whether the row is a schema resolution failure (which
    `furrow replay` sends through enrichment again once the registry is back)."""

    event_id: str
    unresolved_schema: bool
    # The row's type, schema and failure (`row_evidence`), shown when its event is out of place;
    # not part of what the row counts for.
    evidence: Mapping[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Offender:
    """An event stored more than once, or in the index it does not belong in, and the bad rows
    that name it, for the report of a drill that fails."""

    event_id: str
    # None: the collector never answered it 200.
    belongs_in: Index | None
    in_good: int
    bad_rows: list[Mapping[str, Any]]


@dataclass(frozen=True)
class Tally:
    sent: int
    answered_200: int
    refused: int
    unanswered: int
    in_good: int
    in_bad: int
    replayed: int
    missing: int
    duplicates: int
    misplaced: int
    stored_unowed: int
    # A few of the events counted in `duplicates` or `misplaced`: evidence, not a count, so two
    # tallies of the same counts are equal whichever events were picked.
    offenders: list[Offender] = field(default_factory=list, compare=False)
    # How many bad rows of the events out of place have each shape (`row_shape`).
    offending_shapes: dict[str, int] = field(default_factory=dict, compare=False)

    @property
    def passed(self) -> bool:
        """Every event answered 200 is stored exactly once, in the index it belongs in."""
        return self.missing == 0 and self.duplicates == 0 and self.misplaced == 0


@dataclass(frozen=True)
class ArchiveTally:
    """The archive of `good` against the good index: every event there, once, in the files."""

    archived: int
    missing: int
    duplicates: int
    unindexed: int

    @property
    def passed(self) -> bool:
        return self.missing == 0 and self.duplicates == 0 and self.unindexed == 0


def archive_tally(good_ids: Iterable[str], archived_ids: Iterable[str]) -> ArchiveTally:
    """Compare the event ids in the archive's files with those in the good index."""
    copies = _copies(good_ids, archived_ids)
    return ArchiveTally(
        archived=copies.total,
        missing=copies.missing,
        duplicates=copies.duplicates,
        unindexed=copies.unindexed,
    )


@dataclass(frozen=True)
class ForwardTally:
    """What the forwarding destination received against the good index: every event there at
    least once (repeats are at-least-once's due, counted), nothing else, none given up."""

    received: int
    missing: int
    duplicates: int
    unexpected: int
    # `event_forwarding_error` rows in `bad`: events the forwarder gave up on.
    forwarding_errors: int
    # Requests the destination answered 503 while it was down.
    unavailable_answers: int

    @property
    def passed(self) -> bool:
        return self.missing == 0 and self.unexpected == 0 and self.forwarding_errors == 0


def forward_tally(
    good_ids: Iterable[str],
    received_ids: Iterable[str],
    *,
    forwarding_errors: int,
    unavailable_answers: int,
) -> ForwardTally:
    """Compare the event ids the destination received with those in the good index."""
    copies = _copies(good_ids, received_ids)
    return ForwardTally(
        received=copies.total,
        missing=copies.missing,
        duplicates=copies.duplicates,
        unexpected=copies.unindexed,
        forwarding_errors=forwarding_errors,
        unavailable_answers=unavailable_answers,
    )


@dataclass(frozen=True)
class _Copies:
    total: int
    missing: int
    duplicates: int
    unindexed: int


def _copies(good_ids: Iterable[str], copied_ids: Iterable[str]) -> _Copies:
    """How the copies of good events made elsewhere (files, a destination) match the good index:
    the ids indexed but not copied, the copies past the first, and the ids copied but never
    indexed."""
    indexed = set(good_ids)
    copied = Counter(copied_ids)
    return _Copies(
        total=sum(copied.values()),
        missing=sum(1 for event_id in indexed if not copied[event_id]),
        duplicates=sum(count - 1 for count in copied.values() if count > 1),
        unindexed=sum(1 for event_id in copied if event_id not in indexed),
    )


def events_of_bad_row(row: Mapping[str, Any]) -> list[BadRowEvent]:
    """The events inside a bad row's payload: the enriched event's id for rows about one event
    (`schema_violations`, `enrichment_failures`), else the `eid`s of the request's query string
    or POST body. A row without any names none."""
    data = row.get("data")
    if not isinstance(data, dict):
        return []
    payload = data.get("payload")
    if not isinstance(payload, dict):
        return []
    evidence = row_evidence(row)
    enriched = payload.get("enriched")
    if isinstance(enriched, dict) and isinstance(enriched.get("event_id"), str):
        return [BadRowEvent(enriched["event_id"], _is_resolution_failure(data), evidence)]
    ids = _query_event_ids(payload.get("querystring"))
    ids.extend(_body_event_ids(payload.get("body")))
    return [BadRowEvent(event_id, False, evidence) for event_id in ids]


def row_evidence(row: Mapping[str, Any]) -> dict[str, Any]:
    """What a bad row (or a bad document, which the sink may have renamed parts of) says of
    itself: its type, schema and failure."""
    schema = row.get("schema")
    data = row.get("data")
    data = data if isinstance(data, dict) else {}
    failure_type = row.get("failure_type")
    if failure_type is None and isinstance(schema, str):
        failure_type = badrows.type_of(schema)
    return {
        "failure_type": failure_type,
        "schema": schema,
        "failure": data.get("failure", data.get("failure_string")),
    }


def row_shape(evidence: Mapping[str, Any]) -> str:
    """A bad row's type and the kinds of error its failure messages name, e.g.
    `schema_violations: ResolutionError`."""
    failure = evidence.get("failure")
    kinds = sorted(_error_kinds(failure))
    shape = str(evidence.get("failure_type") or "unknown")
    if not isinstance(failure, dict):
        shape += " (failure not an object)"
    return f"{shape}: {', '.join(kinds)}" if kinds else shape


def _query_event_ids(querystring: object) -> list[str]:
    # The query string of a request row, as Snowplow's rows hold it: `{name, value}` pairs.
    if not isinstance(querystring, list):
        return []
    return [
        pair["value"]
        for pair in querystring
        if isinstance(pair, dict)
        and pair.get("name") == "eid"
        and isinstance(pair.get("value"), str)
    ]


def tally(
    sent: Iterable[Sent], good_ids: Iterable[str], bad_events: Iterable[BadRowEvent]
) -> Tally:
    """Compare what was sent with what the `good` and `bad` indices hold.

    An event is stored once if exactly one document names it, not counting a resolution-failure
    bad row of an event that replay then put into `good` (counted as replayed)."""
    sent = list(sent)
    in_good = Counter(good_ids)
    bad_rows = list(bad_events)
    replayed = {row.event_id for row in bad_rows if row.unresolved_schema and in_good[row.event_id]}
    in_bad = Counter(
        row.event_id for row in bad_rows if not (row.unresolved_schema and row.event_id in replayed)
    )
    owed = [event for event in sent if event.status == 200]
    owed_ids = {event.event_id for event in owed}
    copies = {
        event_id: in_good[event_id] + in_bad[event_id] for event_id in set(in_good) | set(in_bad)
    }
    misplaced = {
        event.event_id
        for event in owed
        if copies.get(event.event_id, 0) > 0
        and (in_good if event.belongs_in == "good" else in_bad)[event.event_id] == 0
    }
    doubled = {event_id for event_id, count in copies.items() if count > 1}
    # The owed events in the order sent, then any unowed one stored twice.
    out_of_place = [e.event_id for e in owed if e.event_id in misplaced or e.event_id in doubled]
    out_of_place += sorted(doubled - owed_ids)
    rows_of = _rows_of(bad_rows, set(out_of_place))
    belongs_in = {event.event_id: event.belongs_in for event in owed}
    return Tally(
        sent=len(sent),
        answered_200=len(owed),
        refused=sum(1 for event in sent if event.status not in (None, 200)),
        unanswered=sum(1 for event in sent if event.status is None),
        in_good=sum(in_good.values()),
        in_bad=sum(in_bad.values()),
        replayed=len(replayed),
        missing=sum(1 for event in owed if copies.get(event.event_id, 0) == 0),
        duplicates=sum(copies[event_id] - 1 for event_id in doubled),
        misplaced=len(misplaced),
        stored_unowed=sum(1 for event_id in copies if event_id not in owed_ids),
        offenders=[
            Offender(
                event_id,
                belongs_in.get(event_id),
                in_good[event_id],
                [row.evidence for row in rows_of.get(event_id, [])],
            )
            for event_id in out_of_place[:MAX_OFFENDERS]
        ],
        offending_shapes=dict(
            Counter(row_shape(row.evidence) for rows in rows_of.values() for row in rows)
        ),
    )


def _rows_of(bad_rows: list[BadRowEvent], event_ids: set[str]) -> dict[str, list[BadRowEvent]]:
    rows: dict[str, list[BadRowEvent]] = {}
    for row in bad_rows:
        if row.event_id in event_ids:
            rows.setdefault(row.event_id, []).append(row)
    return rows


def _is_resolution_failure(data: Mapping[str, Any]) -> bool:
    return "ResolutionError" in _error_kinds(data.get("failure"))


def _error_kinds(failure: object) -> set[str]:
    """The `error.error` of each of a failure's messages: the Iglu client's kinds of error
    (`ResolutionError`, `ValidationError`) in a `schema_violations` row."""
    messages = failure.get("messages") if isinstance(failure, dict) else None
    return {
        message["error"]["error"]
        for message in (messages if isinstance(messages, list) else [])
        if isinstance(message, dict)
        and isinstance(message.get("error"), dict)
        and isinstance(message["error"].get("error"), str)
    }


def _body_event_ids(body: object) -> list[str]:
    if not isinstance(body, str):
        return []
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return []
    events = document.get("data") if isinstance(document, dict) else None
    if not isinstance(events, list):
        return []
    return [event["eid"] for event in events if isinstance(event, dict) and "eid" in event]
