import pytest

from services.enrich.rules import Deduplicator, ValidityRules

COLLECTED = "2026-11-23 12:00:00.000"


@pytest.mark.parametrize(
    ("rules", "event", "problems"),
    [
        (ValidityRules(), {"collector_tstamp": COLLECTED}, []),
        (ValidityRules(required_fields=["app_id"]), {"app_id": "shop"}, []),
        (
            ValidityRules(required_fields=["app_id", "user_id"]),
            {},
            ["app_id is required", "user_id is required"],
        ),
        (
            ValidityRules(max_device_age_s=3600),
            {"collector_tstamp": COLLECTED, "dvce_created_tstamp": "2026-11-23 11:30:00.000"},
            [],
        ),
        (
            ValidityRules(max_device_age_s=3600),
            {"collector_tstamp": COLLECTED, "dvce_created_tstamp": "2026-11-23 10:00:00.000"},
            ["7200 s before"],
        ),
        (
            ValidityRules(max_device_future_s=60),
            {"collector_tstamp": COLLECTED, "dvce_created_tstamp": "2026-11-23 12:00:30.000"},
            [],
        ),
        (
            ValidityRules(max_device_future_s=60),
            {"collector_tstamp": COLLECTED, "dvce_created_tstamp": "2026-11-24 12:00:00.000"},
            ["86400 s after"],
        ),
        (ValidityRules(max_device_age_s=1), {"dvce_created_tstamp": "2020-01-01 00:00:00.000"}, []),
    ],
)
def test_validity_rules(rules: ValidityRules, event: dict[str, str], problems: list[str]) -> None:
    found = rules.problems(event)
    assert len(found) == len(problems)
    for problem, expected in zip(found, problems, strict=True):
        assert expected in problem


def test_duplicates_within_the_window_are_caught() -> None:
    dedup = Deduplicator(window_s=60, max_events=100)
    assert not dedup.is_duplicate("e1", "f1", now_s=0)
    assert dedup.is_duplicate("e1", "f1", now_s=30)
    assert not dedup.is_duplicate("e1", "f2", now_s=31)
    assert not dedup.is_duplicate("e2", "f1", now_s=32)
    assert not dedup.is_duplicate("e1", "f1", now_s=100)


def test_memory_is_bounded_by_the_oldest_pairs_going_first() -> None:
    dedup = Deduplicator(window_s=3600, max_events=1000)
    for i in range(5000):
        dedup.is_duplicate(f"e{i}", "f", now_s=i / 1000)
    assert len(dedup) == 1000
    assert dedup.is_duplicate("e4999", "f", now_s=5)
    assert not dedup.is_duplicate("e0", "f", now_s=5)


def test_a_pair_is_remembered_for_the_whole_window_across_generations() -> None:
    dedup = Deduplicator(window_s=60, max_events=100)
    assert not dedup.is_duplicate("early", "f", now_s=0)
    assert not dedup.is_duplicate("late", "f", now_s=50)
    # A new generation starts at 60; both pairs are now in the one before it.
    assert not dedup.is_duplicate("new", "f", now_s=60)
    assert dedup.is_duplicate("late", "f", now_s=109)
    assert not dedup.is_duplicate("early", "f", now_s=61)
    # At 120 the generation holding `late` (seen at 50) goes: it is older than the window.
    assert not dedup.is_duplicate("late", "f", now_s=120)
