"""Whether the pipeline lost or invented events: every event the collector answered 200 must be
exactly one document, a good one if it was valid, a bad row if not. Pure."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Accounting:
    """What was sent and answered 200, against what the `good` and `bad` aliases hold."""

    accepted_events: int
    accepted_invalid: int
    good_documents: int
    bad_documents: int

    @property
    def expected_good(self) -> int:
        return self.accepted_events - self.accepted_invalid

    @property
    def expected_bad(self) -> int:
        return self.accepted_invalid

    @property
    def missing(self) -> int:
        """Events answered 200 with no document: negative when there are extra documents."""
        return self.accepted_events - self.good_documents - self.bad_documents

    @property
    def exact(self) -> bool:
        return (self.good_documents, self.bad_documents) == (self.expected_good, self.expected_bad)

    def describe(self) -> str:
        verdict = "exact" if self.exact else "MISMATCH"
        return (
            f"{self.accepted_events:,} events answered 200 ({self.accepted_invalid:,} invalid): "
            f"good {self.good_documents:,} of {self.expected_good:,} expected, "
            f"bad {self.bad_documents:,} of {self.expected_bad:,} expected: {verdict}"
        )
