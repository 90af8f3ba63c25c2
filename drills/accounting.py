"""Exact accounting of one drill, pure: which events were owed (answered 200), where each one
ended up in Elasticsearch, and what is missing, doubled or in the wrong index."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from drills.traffic import Index


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
    enriched = payload.get("enriched")
    if isinstance(enriched, dict) and isinstance(enriched.get("event_id"), str):
        return [BadRowEvent(enriched["event_id"], _is_resolution_failure(data))]
    ids = _query_event_ids(payload.get("querystring"))
    ids.extend(_body_event_ids(payload.get("body")))
    return [BadRowEvent(event_id, False) for event_id in ids]


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
    return Tally(
        sent=len(sent),
        answered_200=len(owed),
        refused=sum(1 for event in sent if event.status not in (None, 200)),
        unanswered=sum(1 for event in sent if event.status is None),
        in_good=sum(in_good.values()),
        in_bad=sum(in_bad.values()),
        replayed=len(replayed),
        missing=sum(1 for event in owed if copies.get(event.event_id, 0) == 0),
        duplicates=sum(count - 1 for count in copies.values() if count > 1),
        misplaced=sum(
            1
            for event in owed
            if copies.get(event.event_id, 0) > 0
            and (in_good if event.belongs_in == "good" else in_bad)[event.event_id] == 0
        ),
        stored_unowed=sum(1 for event_id in copies if event_id not in owed_ids),
    )


def _is_resolution_failure(data: Mapping[str, Any]) -> bool:
    failure = data.get("failure")
    messages = failure.get("messages") if isinstance(failure, dict) else None
    if not isinstance(messages, list):
        return False
    return any(
        isinstance(message, dict)
        and isinstance(message.get("error"), dict)
        and message["error"].get("error") == "ResolutionError"
        for message in messages
    )


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
