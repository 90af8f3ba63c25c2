"""When a consumer's /health says it is stalled, and when it gives up and exits."""

import pytest

from libs.stall import Lag, StallWatch

STALL_S, EXIT_S = 30.0, 120.0


def watch() -> StallWatch:
    stall = StallWatch(stall_after_s=STALL_S, exit_after_s=EXIT_S, poll_gap_s=3.0)
    stall.started(0.0)
    return stall


def test_a_consumer_with_nothing_to_read_is_healthy_however_long_it_waits() -> None:
    stall = watch()
    for now in range(0, 600, 5):
        stall.polled(float(now), records=0)
        stall.measured(float(now), Lag(group=0, assigned=0))
    assert stall.problem(600.0) is None
    assert stall.hopeless(600.0) is None


def test_records_waiting_and_nothing_moving_is_a_stall_until_it_moves() -> None:
    stall = watch()
    stall.measured(10.0, Lag(group=40, assigned=0))
    assert stall.problem(10.0) is None
    stall.measured(31.0, Lag(group=40, assigned=0))
    assert stall.problem(31.0) == (
        "nothing read or committed for 31 s while the group has 40 records waiting"
    )
    stall.polled(32.0, records=5)
    assert stall.problem(32.0) is None


def test_a_commit_is_progress() -> None:
    stall = watch()
    stall.measured(50.0, Lag(group=40, assigned=40))
    stall.progressed(45.0)
    assert stall.problem(50.0) is None


def test_a_lag_measured_before_the_last_progress_is_not_taken_for_a_stall() -> None:
    stall = watch()
    stall.measured(50.0, Lag(group=40, assigned=40))
    stall.progressed(51.0)
    assert stall.problem(90.0) is None
    stall.measured(90.0, Lag(group=40, assigned=40))
    assert stall.problem(90.0) is not None


def test_kafka_away_for_long_is_named_in_the_problem() -> None:
    stall = watch()
    stall.unreachable(5.0, "Local: Timed out")
    assert stall.problem(20.0) is None
    assert stall.problem(40.0) == "Kafka has not answered for 35 s: Local: Timed out"
    stall.measured(41.0, Lag(group=0, assigned=0))
    assert stall.problem(41.0) is None


@pytest.mark.parametrize(
    ("lag", "polling", "reachable", "exits"),
    [
        (Lag(group=10, assigned=10, partitions=2), True, True, True),
        # Another member lags, not this one.
        (Lag(group=10, assigned=0, partitions=2), True, True, False),
        # Held up downstream (Elasticsearch away): it is not asking for records.
        (Lag(group=10, assigned=10, partitions=2), False, True, False),
        # Kafka away: waiting for it is not being stuck.
        (Lag(group=10, assigned=10, partitions=2), True, False, False),
    ],
)
def test_only_asking_in_vain_for_its_own_records_while_kafka_answers_ends_the_process(
    lag: Lag, polling: bool, reachable: bool, exits: bool
) -> None:
    stall = watch()
    for now in range(0, int(STALL_S + EXIT_S) + 20, 5):
        if polling:
            stall.polled(float(now), records=0)
        if reachable:
            stall.measured(float(now), lag)
        else:
            stall.unreachable(float(now), "Local: Broker transport failure")
    reason = stall.hopeless(STALL_S + EXIT_S + 15)
    assert (reason is not None) == exits
    if exits:
        assert reason == (
            "no record delivered for 165 s from partitions assigned here with 10 records "
            "waiting, while Kafka answers"
        )


def test_the_time_to_give_up_counts_again_after_kafka_was_away() -> None:
    stall = watch()
    lag = Lag(group=10, assigned=10, partitions=2)
    for now in range(0, 100, 5):
        stall.polled(float(now), records=0)
        stall.measured(float(now), lag)
    stall.unreachable(100.0, "Local: Broker transport failure")
    for now in range(105, 200, 5):
        stall.polled(float(now), records=0)
        stall.measured(float(now), lag)
    assert stall.hopeless(200.0) is None
    assert stall.hopeless(105.0 + EXIT_S) is not None


def test_a_consumer_left_without_partitions_while_its_group_lags_is_stuck() -> None:
    stall = watch()
    orphaned = Lag(group=25, assigned=0, partitions=0)
    for now in range(0, int(STALL_S + EXIT_S) + 20, 5):
        stall.polled(float(now), records=0)
        stall.measured(float(now), orphaned)
    assert stall.hopeless(STALL_S + EXIT_S + 15) == (
        "no partition assigned and nothing read for 165 s while the group has 25 records "
        "waiting and Kafka answers"
    )
    # A new consumer takes over: its time counts from now.
    stall.started(STALL_S + EXIT_S + 15)
    assert stall.hopeless(STALL_S + EXIT_S + 20) is None
    assert stall.problem(STALL_S + EXIT_S + 20) is None


def test_a_member_without_partitions_in_a_group_with_nothing_waiting_is_not_stuck() -> None:
    stall = watch()
    for now in range(0, 400, 5):
        stall.polled(float(now), records=0)
        stall.measured(float(now), Lag(group=0, assigned=0, partitions=0))
    assert stall.hopeless(400.0) is None


def test_a_consumer_whose_group_coordinator_never_answers_while_kafka_does_is_stuck() -> None:
    stall = watch()
    for now in range(0, int(STALL_S + EXIT_S) + 20, 5):
        stall.polled(float(now), records=0)
        stall.coordinator_missing(float(now), "Local: Waiting for coordinator")
    assert stall.problem(40.0) is not None
    assert stall.hopeless(STALL_S + EXIT_S + 15) == (
        "no group coordinator for this consumer and nothing read for 165 s while Kafka "
        "answers: Local: Waiting for coordinator"
    )


def test_a_coordinator_back_within_the_time_clears_the_stuck_clock() -> None:
    stall = watch()
    for now in range(0, 100, 5):
        stall.polled(float(now), records=0)
        stall.coordinator_missing(float(now), "Local: Waiting for coordinator")
    stall.measured(100.0, Lag(group=10, assigned=10, partitions=2))
    stall.polled(101.0, records=10)
    assert stall.hopeless(STALL_S + EXIT_S + 15) is None
    assert stall.problem(102.0) is None


def test_a_consumer_whose_own_requests_fail_while_a_new_client_is_answered_is_stuck() -> None:
    stall = watch()
    reason = "Kafka answers a new client, but not this one: Local: Broker transport failure"
    for now in range(0, int(STALL_S + EXIT_S) + 20, 5):
        stall.polled(float(now), records=0)
        stall.client_failing(float(now), reason)
    assert stall.problem(40.0) == f"nothing read or committed for 40 s: {reason}"
    assert stall.hopeless(STALL_S + EXIT_S + 15) == (
        f"this consumer's own requests fail and nothing read for 165 s while Kafka answers: "
        f"{reason}"
    )


def test_kafka_going_away_stops_the_clock_of_a_failing_consumer() -> None:
    stall = watch()
    for now in range(0, int(STALL_S + EXIT_S) + 20, 5):
        stall.polled(float(now), records=0)
        if now < 50:
            stall.client_failing(float(now), "Local: Broker transport failure")
        else:
            stall.unreachable(float(now), "Local: Broker transport failure")
    assert stall.hopeless(STALL_S + EXIT_S + 15) is None
