"""The drills' accounting: which event a bad row stands for, and the tally that decides whether
every event answered 200 is stored exactly once, in the index it belongs in."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import orjson
import pytest

from drills.accounting import (
    MAX_OFFENDERS,
    ArchiveTally,
    BadRowEvent,
    ForwardTally,
    Offender,
    Sent,
    Tally,
    archive_tally,
    events_of_bad_row,
    forward_tally,
    row_evidence,
    row_shape,
    tally,
)
from drills.traffic import TrackerRequest, broken_base64, checkout, page_view, requests
from libs.formats import badrows
from libs.formats.collector_payload import CollectorPayload

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
GET = CollectorPayload(ip_address="203.0.113.9", timestamp_ms=0, collector="c", path="/i")


def _event_payload(event_id: str) -> dict[str, Any]:
    return {"enriched": {"event_id": event_id}, "raw": {}}


def _row(encoded: bytes) -> dict[str, Any]:
    row: dict[str, Any] = orjson.loads(encoded)
    return row


RESOLUTION = {"error": "ResolutionError", "lookupHistory": []}
INVALID = {"error": "ValidationError", "dataReports": []}


@pytest.mark.parametrize(
    ("row", "events"),
    [
        (
            _row(
                badrows.schema_violations(
                    "enrich", _event_payload("a"), [{"schemaKey": "k", "error": INVALID}], now=NOW
                )
            ),
            [BadRowEvent("a", unresolved_schema=False)],
        ),
        (
            _row(
                badrows.schema_violations(
                    "enrich",
                    _event_payload("b"),
                    [{"schemaKey": "k", "error": RESOLUTION}],
                    now=NOW,
                )
            ),
            [BadRowEvent("b", unresolved_schema=True)],
        ),
        (
            _row(badrows.enrichment_failures("enrich", _event_payload("c"), [], now=NOW)),
            [BadRowEvent("c", unresolved_schema=False)],
        ),
        (
            _row(
                badrows.tracker_protocol_violations(
                    "enrich",
                    replace(GET, querystring=urlencode({"eid": "d"})),
                    "v",
                    "1",
                    [],
                    now=NOW,
                )
            ),
            [BadRowEvent("d", unresolved_schema=False)],
        ),
        (
            _row(
                badrows.tracker_protocol_violations(
                    "enrich",
                    replace(GET, body=orjson.dumps({"data": [{"eid": "e"}, {"eid": "f"}]})),
                    "v",
                    "1",
                    [],
                    now=NOW,
                )
            ),
            [BadRowEvent("e", unresolved_schema=False), BadRowEvent("f", unresolved_schema=False)],
        ),
        (_row(badrows.generic_error("sink", ["boom"], "text", now=NOW)), []),
        ({"schema": "x"}, []),
    ],
    ids=[
        "invalid event",
        "unresolved schema",
        "enrichment failure",
        "GET request",
        "POST batch",
        "string payload",
        "no data",
    ],
)
def test_the_events_a_bad_row_stands_for(row: dict[str, Any], events: list[BadRowEvent]) -> None:
    assert events_of_bad_row(row) == events


def bad(event_id: str, *, unresolved: bool = False) -> BadRowEvent:
    return BadRowEvent(event_id, unresolved)


SENT = [
    Sent("g1", "good", 200),
    Sent("g2", "good", 200),
    Sent("b1", "bad", 200),
    Sent("x", "good", None),
    Sent("r", "good", 503),
]
EXACT = Tally(
    sent=5,
    answered_200=3,
    refused=1,
    unanswered=1,
    in_good=2,
    in_bad=1,
    replayed=0,
    missing=0,
    duplicates=0,
    misplaced=0,
    stored_unowed=0,
)


@pytest.mark.parametrize(
    ("good", "bad_rows", "expected"),
    [
        (["g1", "g2"], [bad("b1")], EXACT),
        (["g1"], [bad("b1")], replace(EXACT, in_good=1, missing=1)),
        (["g1", "g2", "g2"], [bad("b1")], replace(EXACT, in_good=3, duplicates=1)),
        (["g1", "g2"], [bad("b1"), bad("b1")], replace(EXACT, in_bad=2, duplicates=1)),
        (["g1", "g2", "b1"], [], replace(EXACT, in_good=3, in_bad=0, misplaced=1)),
        (["g1"], [bad("g2"), bad("b1")], replace(EXACT, in_good=1, in_bad=2, misplaced=1)),
        (["g1", "g2", "x"], [bad("b1")], replace(EXACT, in_good=3, stored_unowed=1)),
        (["g1", "g2"], [bad("b1"), bad("g2", unresolved=True)], replace(EXACT, replayed=1)),
        (
            ["g1"],
            [bad("b1"), bad("g2", unresolved=True)],
            replace(EXACT, in_good=1, in_bad=2, misplaced=1),
        ),
    ],
    ids=[
        "exact",
        "one missing",
        "twice in good",
        "twice in bad",
        "invalid one in good",
        "valid one in bad",
        "unowed one stored",
        "replayed after a resolution error",
        "resolution error not replayed",
    ],
)
def test_the_tally(good: list[str], bad_rows: list[BadRowEvent], expected: Tally) -> None:
    assert tally(SENT, good, bad_rows) == expected


def test_the_tally_shows_the_bad_rows_of_events_out_of_place() -> None:
    resolution = {
        "failure_type": "schema_violations",
        "failure": {"messages": [{"error": RESOLUTION}]},
    }
    invalid = {"failure_type": "schema_violations", "failure": {"messages": [{"error": INVALID}]}}
    rows = [
        BadRowEvent("b1", False, invalid),
        # Replayed into good: not out of place, its row is no evidence.
        BadRowEvent("g1", True, resolution),
        # In bad twice and never in good: doubled and misplaced (b1, in both, is doubled).
        BadRowEvent("g2", True, resolution),
        BadRowEvent("g2", True, resolution),
    ]
    counted = tally(SENT, ["g1", "b1"], rows)

    assert (counted.duplicates, counted.misplaced, counted.replayed) == (2, 1, 1)
    assert counted.offenders == [
        Offender("g2", "good", 0, [resolution, resolution]),
        Offender("b1", "bad", 1, [invalid]),
    ]
    assert counted.offending_shapes == {
        "schema_violations: ResolutionError": 2,
        "schema_violations: ValidationError": 1,
    }


def test_the_tally_shows_only_a_few_offenders() -> None:
    sent = [Sent(str(i), "good", 200) for i in range(10)]
    counted = tally(sent, [str(i) for i in range(10)] * 2, [])

    assert counted.duplicates == 10
    assert [offender.event_id for offender in counted.offenders] == [
        str(i) for i in range(MAX_OFFENDERS)
    ]
    assert counted.offending_shapes == {}


def test_an_exact_tally_names_no_offender() -> None:
    counted = tally(SENT, ["g1", "g2"], [bad("b1")])
    assert (counted.offenders, counted.offending_shapes) == ([], {})


@pytest.mark.parametrize(
    ("row", "evidence", "shape"),
    [
        (
            {
                "schema": badrows.SCHEMA_VIOLATIONS,
                "failure_type": "schema_violations",
                "data": {"failure": {"messages": [{"schemaKey": "k", "error": RESOLUTION}]}},
            },
            {
                "failure_type": "schema_violations",
                "schema": badrows.SCHEMA_VIOLATIONS,
                "failure": {"messages": [{"schemaKey": "k", "error": RESOLUTION}]},
            },
            "schema_violations: ResolutionError",
        ),
        (
            # As the bad sink stores a row whose failure is no object.
            {"schema": "iglu:com.acme/odd/jsonschema/1-0-0", "data": {"failure_string": "boom"}},
            {
                "failure_type": None,
                "schema": "iglu:com.acme/odd/jsonschema/1-0-0",
                "failure": "boom",
            },
            "unknown (failure not an object)",
        ),
        (
            _row(badrows.generic_error("enrich", ["unexpected KeyError"], "cmF3", now=NOW)),
            {
                "failure_type": "generic_error",
                "schema": badrows.GENERIC_ERROR,
                "failure": {
                    "timestamp": "2026-11-23T12:00:00.000Z",
                    "errors": ["unexpected KeyError"],
                },
            },
            "generic_error",
        ),
    ],
    ids=["bad document", "renamed failure", "bad row as the enricher writes it"],
)
def test_the_evidence_of_a_bad_row(
    row: dict[str, Any], evidence: dict[str, Any], shape: str
) -> None:
    assert row_evidence(row) == evidence
    assert row_shape(evidence) == shape


@pytest.mark.parametrize(
    ("result", "passed"),
    [
        (EXACT, True),
        (replace(EXACT, replayed=3, stored_unowed=2, refused=9, unanswered=9), True),
        (replace(EXACT, missing=1), False),
        (replace(EXACT, duplicates=1), False),
        (replace(EXACT, misplaced=1), False),
    ],
    ids=["exact", "unowed, refused and replayed are allowed", "missing", "duplicate", "misplaced"],
)
def test_a_drill_passes_only_when_nothing_owed_is_missing_doubled_or_misplaced(
    result: Tally, passed: bool
) -> None:
    assert result.passed is passed


@pytest.mark.parametrize(
    ("request_", "method", "belongs_in"),
    [
        (TrackerRequest("GET", "/i", (page_view("1"),)), "GET", ["good"]),
        (TrackerRequest("GET", "/i", (checkout("2", valid=False),)), "GET", ["bad"]),
        (TrackerRequest("GET", "/i", (broken_base64("3"),)), "GET", ["bad"]),
    ],
    ids=["page view", "invalid checkout", "broken base64"],
)
def test_the_traffic_says_where_each_event_belongs(
    request_: TrackerRequest, method: str, belongs_in: list[str]
) -> None:
    assert request_.method == method
    assert [event.belongs_in for event in request_.events] == belongs_in
    assert request_.query()["eid"] == request_.events[0].event_id


def test_the_mix_has_unique_event_ids_and_both_indices() -> None:
    mix = requests()
    events = [event for _ in range(70) for event in next(mix).events]

    assert len({event.event_id for event in events}) == len(events)
    assert {event.belongs_in for event in events} == {"good", "bad"}
    assert {request.method for request in (next(mix) for _ in range(7))} == {"GET", "POST"}


@pytest.mark.parametrize(
    ("good", "archived", "expected"),
    [
        (["a", "b"], ["b", "a"], ArchiveTally(2, 0, 0, 0)),
        (["a", "b"], ["a"], ArchiveTally(1, 1, 0, 0)),
        (["a", "b"], ["a", "b", "a", "a"], ArchiveTally(4, 0, 2, 0)),
        (["a"], ["a", "z"], ArchiveTally(2, 0, 0, 1)),
    ],
)
def test_the_archive_holds_every_indexed_event_once(
    good: list[str], archived: list[str], expected: ArchiveTally
) -> None:
    found = archive_tally(good, archived)
    assert found == expected
    assert found.passed is (expected == ArchiveTally(len(good), 0, 0, 0))


@pytest.mark.parametrize(
    ("good", "received", "forwarding_errors", "expected", "passes"),
    [
        (["a", "b"], ["b", "a"], 0, ForwardTally(2, 0, 0, 0, 0, 3), True),
        # At least once: a batch sent again after a lost answer is no failure.
        (["a", "b"], ["a", "b", "a", "a"], 0, ForwardTally(4, 0, 2, 0, 0, 3), True),
        (["a", "b"], ["a"], 0, ForwardTally(1, 1, 0, 0, 0, 3), False),
        (["a"], ["a", "z"], 0, ForwardTally(2, 0, 0, 1, 0, 3), False),
        # Given up on as a bad row: the drill's retry budget outlasts its outage.
        (["a", "b"], ["a"], 1, ForwardTally(1, 1, 0, 0, 1, 3), False),
        (["a"], ["a"], 1, ForwardTally(1, 0, 0, 0, 1, 3), False),
    ],
)
def test_the_destination_receives_every_indexed_event_at_least_once(
    good: list[str],
    received: list[str],
    forwarding_errors: int,
    expected: ForwardTally,
    passes: bool,
) -> None:
    found = forward_tally(
        good, received, forwarding_errors=forwarding_errors, unavailable_answers=3
    )
    assert found == expected
    assert found.passed is passes
