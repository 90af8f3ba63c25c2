"""Records per second from two looks at Kafka's offsets."""

from __future__ import annotations

import pytest

from services.console.rates import OffsetsSample, Rates, offsets_sample, per_second, rates


@pytest.mark.parametrize(
    ("before", "after", "interval_s", "expected"),
    [
        ({0: 100, 1: 50}, {0: 300, 1: 150}, 2.0, 150.0),
        ({0: 100}, {0: 100}, 5.0, 0.0),
        # A partition added since the earlier look is left out: its growth is not known.
        ({0: 10}, {0: 20, 1: 1000}, 1.0, 10.0),
        # Nothing committed yet at the earlier look: no rate, not a burst of the whole partition.
        ({}, {0: 1000}, 1.0, None),
        # The topic was made anew, or the group reset: offsets went backwards.
        ({0: 500, 1: 5}, {0: 3, 1: 9}, 1.0, None),
        ({0: 1}, {0: 2}, 0.0, None),
    ],
)
def test_per_second_is_the_growth_of_partitions_known_at_both_looks(
    before: dict[int, int], after: dict[int, int], interval_s: float, expected: float | None
) -> None:
    assert per_second(before, after, interval_s) == expected


LAGS = [
    {
        "component": "enrich",
        "group_id": "furrow-enrich",
        "topic": "raw",
        "partitions": [
            {"partition": 0, "end": 100, "committed": 90, "lag": 10},
            {"partition": 1, "end": 40, "committed": None, "lag": 40},
            {"partition": 2, "end": 0, "committed": None, "lag": 0},
        ],
    },
    {"component": "sink good", "group_id": "furrow-sink-good", "topic": "good", "partitions": []},
]


def test_a_sample_holds_the_ends_and_the_committed_offsets_known() -> None:
    # Nothing committed in an empty partition is offset 0; in one holding records, unknown.
    assert offsets_sample(LAGS, 7.5) == OffsetsSample(
        7.5,
        {"raw": {0: 100, 1: 40, 2: 0}, "good": {}},
        {"furrow-enrich": {0: 90, 2: 0}, "furrow-sink-good": {}},
    )


EARLIER = OffsetsSample(10.0, {"raw": {0: 100, 1: 40}}, {"furrow-enrich": {0: 90}})
LATER = OffsetsSample(14.0, {"raw": {0: 300, 1: 60}}, {"furrow-enrich": {0: 250, 1: 20}})


@pytest.mark.parametrize(
    ("earlier", "now", "expected"),
    [
        (
            EARLIER,
            LATER,
            Rates(4.0, None, {"raw": 55.0}, {"furrow-enrich": 40.0}),
        ),
        (
            None,
            LATER,
            Rates(
                None,
                "first look since the console started: reload for rates",
                {"raw": None},
                {"furrow-enrich": None},
            ),
        ),
        (
            OffsetsSample(13.5, {"raw": {0: 299}}, {}),
            LATER,
            Rates(
                None,
                "the previous look was 0.5 s ago: reload in a second for rates",
                {"raw": None},
                {"furrow-enrich": None},
            ),
        ),
        # A topic or group not looked at before (the earlier look had no answer from Kafka).
        (
            OffsetsSample(12.0, {}, {}),
            LATER,
            Rates(2.0, None, {"raw": None}, {"furrow-enrich": None}),
        ),
    ],
)
def test_rates_between_two_looks_or_why_there_are_none(
    earlier: OffsetsSample | None, now: OffsetsSample, expected: Rates
) -> None:
    assert rates(earlier, now) == expected
