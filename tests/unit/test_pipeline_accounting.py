import pytest

from bench.pipeline_accounting import Accounting


@pytest.mark.parametrize(
    ("good", "bad", "refused", "discrepancy"),
    [
        (950, 50, 0, 0),
        (949, 50, 0, 1),  # an event lost
        (950, 49, 0, 1),  # a bad row lost
        (951, 50, 0, 1),  # an event twice, or invented
        (951, 49, 0, 2),  # an invalid event indexed as good: the total alone would hide it
        (0, 0, 0, 1000),
        # A request that timed out may have reached Kafka: its events may be there, or not.
        (950, 50, 10, 0),
        (958, 51, 10, 0),
        (961, 50, 10, 1),
        # ... but it never excuses a missing event.
        (949, 51, 10, 1),
    ],
)
def test_every_event_answered_200_is_exactly_one_document_of_the_right_kind(
    good: int, bad: int, refused: int, discrepancy: int
) -> None:
    accounting = Accounting(
        accepted_events=1000,
        accepted_invalid=50,
        good_documents=good,
        bad_documents=bad,
        refused_events=refused,
    )
    assert (accounting.discrepancy, accounting.exact) == (discrepancy, discrepancy == 0)
    assert accounting.describe().endswith(
        "exact" if discrepancy == 0 else f"MISMATCH by {discrepancy:,}"
    )


@pytest.mark.parametrize(
    ("refused", "description"),
    [
        (
            0,
            "12,000 events answered 200 (600 invalid): good 11,400 of 11,400 expected, "
            "bad 600 of 600 expected: exact",
        ),
        (
            7,
            "12,000 events answered 200 (600 invalid): good 11,400 of 11,400 expected, "
            "bad 600 of 600 expected; 7 events in requests not answered 200: exact",
        ),
    ],
)
def test_the_description_gives_expected_and_found_counts(refused: int, description: str) -> None:
    accounting = Accounting(
        accepted_events=12_000,
        accepted_invalid=600,
        good_documents=11_400,
        bad_documents=600,
        refused_events=refused,
    )
    assert accounting.describe() == description
