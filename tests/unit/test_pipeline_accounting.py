import pytest

from bench.pipeline_accounting import Accounting


@pytest.mark.parametrize(
    ("good", "bad", "exact", "missing"),
    [
        (950, 50, True, 0),
        (949, 50, False, 1),  # an event lost
        (950, 49, False, 1),  # a bad row lost
        (951, 50, False, -1),  # an event twice, or invented
        (951, 49, False, 0),  # an invalid event indexed as good: the total alone hides it
        (0, 0, False, 1000),
    ],
)
def test_every_event_answered_200_is_exactly_one_document_of_the_right_kind(
    good: int, bad: int, exact: bool, missing: int
) -> None:
    accounting = Accounting(
        accepted_events=1000, accepted_invalid=50, good_documents=good, bad_documents=bad
    )
    assert (accounting.exact, accounting.missing) == (exact, missing)
    assert accounting.describe().endswith("exact" if exact else "MISMATCH")


def test_the_description_gives_expected_and_found_counts() -> None:
    accounting = Accounting(
        accepted_events=12_000, accepted_invalid=600, good_documents=11_400, bad_documents=600
    )
    assert accounting.describe() == (
        "12,000 events answered 200 (600 invalid): good 11,400 of 11,400 expected, "
        "bad 600 of 600 expected: exact"
    )
