import pytest

from bench.latency import (
    JvmTimes,
    by_second,
    compiling_shares,
    consumer_lag,
    cpu_percent,
    drained_after,
    interval_means,
    percentile,
    rates,
    spaced,
    steady_rate,
)


@pytest.mark.parametrize(
    ("values", "percent", "expected"),
    [
        ([1.0], 99, 1.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.5),
        ([4.0, 1.0, 3.0, 2.0], 50, 2.5),
        ([1.0, 2.0, 3.0, 4.0], 0, 1.0),
        ([1.0, 2.0, 3.0, 4.0], 100, 4.0),
        ([float(n) for n in range(1, 101)], 99, 99.01),
        ([float(n) for n in range(1, 101)], 95, 95.05),
        ([0.5] * 99 + [10.0], 99, 0.595),
    ],
)
def test_percentiles_interpolate_between_closest_ranks(
    values: list[float], percent: float, expected: float
) -> None:
    assert percentile(values, percent) == pytest.approx(expected)


@pytest.mark.parametrize(("values", "percent"), [([], 50), ([1.0], -1), ([1.0], 101)])
def test_percentiles_refuse_no_values_or_percents_out_of_range(
    values: list[float], percent: float
) -> None:
    with pytest.raises(ValueError):
        percentile(values, percent)


@pytest.mark.parametrize(
    ("samples", "expected"),
    [
        ([], []),
        ([(0.0, 10.0)], []),
        ([(0.0, 0.0), (1.0, 100.0), (3.0, 300.0)], [(1.0, 100.0), (3.0, 100.0)]),
        ([(0.0, 0.0), (0.5, 100.0)], [(0.5, 200.0)]),
        # A counter that goes down belongs to a restarted process: no negative rate.
        ([(0.0, 500.0), (1.0, 20.0)], [(1.0, 0.0)]),
        # Two samples at one moment give no interval.
        ([(1.0, 5.0), (1.0, 6.0)], []),
    ],
)
def test_rates_are_per_interval_from_cumulative_counts(
    samples: list[tuple[float, float]], expected: list[tuple[float, float]]
) -> None:
    assert rates(samples) == expected


@pytest.mark.parametrize(
    ("before", "after", "elapsed_s", "expected"),
    [(0.0, 1.0, 1.0, 100.0), (0.5, 0.75, 1.0, 25.0), (0.0, 2.0, 2.0, 100.0), (3.0, 3.0, 1.0, 0.0)],
)
def test_cpu_percent_is_cpu_time_over_elapsed_time(
    before: float, after: float, elapsed_s: float, expected: float
) -> None:
    assert cpu_percent(before, after, elapsed_s) == pytest.approx(expected)


def test_cpu_percent_needs_an_interval() -> None:
    with pytest.raises(ValueError):
        cpu_percent(0.0, 1.0, 0.0)


@pytest.mark.parametrize(
    ("ends", "committed", "expected"),
    [
        ({0: 100, 1: 50}, {0: 100, 1: 50}, 0),
        ({0: 100, 1: 50}, {0: 90, 1: 20}, 40),
        # Nothing committed on a partition yet: all of it is lag.
        ({0: 100, 1: 50}, {0: 100}, 50),
        ({0: 100, 1: 50}, {0: None, 1: 50}, 100),
        ({0: 0, 1: 0}, {}, 0),
        # A commit read after a newer end offset never makes lag negative.
        ({0: 10}, {0: 12}, 0),
    ],
)
def test_consumer_lag_sums_uncommitted_records_over_partitions(
    ends: dict[int, int], committed: dict[int, int | None], expected: int
) -> None:
    assert consumer_lag(ends, committed) == expected


@pytest.mark.parametrize(
    ("moments", "expected"),
    [
        ([], []),
        ([(0.2, 1.0), (0.9, 2.0), (1.0, 3.0)], [(0.0, [1.0, 2.0]), (1.0, [3.0])]),
        ([(5.5, 1.0), (2.1, 2.0)], [(2.0, [2.0]), (5.0, [1.0])]),
    ],
)
def test_values_are_grouped_by_the_second_they_fall_in(
    moments: list[tuple[float, float]], expected: list[tuple[float, list[float]]]
) -> None:
    assert by_second(moments) == expected


@pytest.mark.parametrize(
    ("samples", "window", "expected"),
    [
        # Keeps up at 1,000 events/s, done one second after a 10 s load: the latency is not
        # lost throughput.
        (
            [(0.0, 0.0), (2.0, 1000.0), (6.0, 5000.0), (10.0, 9000.0), (11.0, 10000.0)],
            (2.0, 10.0),
            1000.0,
        ),
        # Falls behind: 500 a second whatever is offered.
        ([(0.0, 0.0), (10.0, 5000.0), (20.0, 10000.0)], (0.0, 20.0), 500.0),
        # Sampled irregularly (1 s apart or a little more): the fit, not the two ends.
        ([(1.0, 100.0), (2.0, 190.0), (3.01, 310.0), (4.0, 400.0)], (1.0, 4.0), 101.914),
        ([(0.0, 0.0), (1.0, 0.0)], (0.0, 1.0), 0.0),
    ],
)
def test_steady_rate_is_the_slope_of_the_count_over_the_window(
    samples: list[tuple[float, float]], window: tuple[float, float], expected: float
) -> None:
    assert steady_rate(samples, *window) == pytest.approx(expected, rel=1e-4)


def test_a_steady_rate_needs_two_samples_in_its_window() -> None:
    with pytest.raises(ValueError, match="fewer than two"):
        steady_rate([(0.0, 0.0), (5.0, 10.0)], 1.0, 10.0)


@pytest.mark.parametrize(
    ("samples", "expected"),
    [
        ([(0.0, 0.0), (10.0, 9000.0), (11.0, 10000.0), (12.0, 10000.0)], 1.0),
        ([(0.0, 0.0), (9.0, 10000.0), (10.0, 10000.0)], -1.0),
    ],
)
def test_drained_after_is_the_time_from_the_load_end_to_the_final_total(
    samples: list[tuple[float, float]], expected: float
) -> None:
    assert drained_after(samples, 10.0) == expected


@pytest.mark.parametrize(
    ("sums", "counts", "expected"),
    [
        ([], [], []),
        (
            [(0.0, 0.0), (1.0, 0.5), (2.0, 0.5), (3.0, 1.1)],
            [(0.0, 0.0), (1.0, 10.0), (2.0, 10.0), (3.0, 12.0)],
            [(1.0, 0.05), (3.0, 0.3)],
        ),
    ],
)
def test_interval_means_divide_what_was_observed_in_each_interval(
    sums: list[tuple[float, float]],
    counts: list[tuple[float, float]],
    expected: list[tuple[float, float]],
) -> None:
    means = interval_means(sums, counts)
    assert [moment for moment, _ in means] == [moment for moment, _ in expected]
    assert [mean for _, mean in means] == pytest.approx([mean for _, mean in expected])


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        ([], []),
        ([(0.0, 1.0)], [(0.0, 1.0)]),
        (
            [(0.0, 0.0), (1.0, 1.0), (2.5, 2.0), (3.0, 3.0), (4.9, 4.0), (5.1, 5.0)],
            [(0.0, 0.0), (2.5, 2.0), (4.9, 4.0), (5.1, 5.0)],
        ),
        # Sparse points (a starved sampler) are all kept.
        ([(0.0, 0.0), (5.0, 1.0), (11.0, 2.0)], [(0.0, 0.0), (5.0, 1.0), (11.0, 2.0)]),
    ],
)
def test_spaced_points_are_at_least_the_gap_apart_and_keep_the_last(
    points: list[tuple[float, float]], expected: list[tuple[float, float]]
) -> None:
    assert spaced(points, gap_s=2.0) == expected


@pytest.mark.parametrize(
    ("before", "after", "share"),
    [
        (JvmTimes(100.0, 40.0), JvmTimes(160.0, 70.0), 0.5),
        (JvmTimes(100.0, 40.0), JvmTimes(150.0, 40.0), 0.0),
        # A JVM that used no CPU at all compiled nothing either.
        (JvmTimes(100.0, 40.0), JvmTimes(100.0, 40.0), 0.0),
    ],
)
def test_compiling_share_is_jit_time_over_the_jvms_cpu_between_readings(
    before: JvmTimes, after: JvmTimes, share: float
) -> None:
    assert compiling_shares({"kafka": before}, {"kafka": after}) == {"kafka": share}
