"""Whether the pipeline lost or invented events: every event the collector answered 200 must be
exactly one document, a good one if it was valid, a bad row if not. Pure."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Accounting:
    """What was sent and answered 200, against what the `good` and `bad` aliases hold.

    Events of requests not answered 200 (an error, a timeout) may or may not have reached
    Kafka before the answer failed, so up to that many extra documents are not counted against
    the pipeline; none may be missing."""

    accepted_events: int
    accepted_invalid: int
    good_documents: int
    bad_documents: int
    refused_events: int = 0

    @property
    def expected_good(self) -> int:
        return self.accepted_events - self.accepted_invalid

    @property
    def expected_bad(self) -> int:
        return self.accepted_invalid

    @property
    def discrepancy(self) -> int:
        """Documents missing, plus documents more than the refused events could explain."""
        good_off = self.good_documents - self.expected_good
        bad_off = self.bad_documents - self.expected_bad
        missing = max(0, -good_off) + max(0, -bad_off)
        surplus = max(0, good_off) + max(0, bad_off)
        return missing + max(0, surplus - self.refused_events)

    @property
    def exact(self) -> bool:
        return self.discrepancy == 0

    def describe(self) -> str:
        verdict = "exact" if self.exact else f"MISMATCH by {self.discrepancy:,}"
        refused = (
            f"; {self.refused_events:,} events in requests not answered 200"
            if self.refused_events
            else ""
        )
        return (
            f"{self.accepted_events:,} events answered 200 ({self.accepted_invalid:,} invalid): "
            f"good {self.good_documents:,} of {self.expected_good:,} expected, "
            f"bad {self.bad_documents:,} of {self.expected_bad:,} expected{refused}: {verdict}"
        )
