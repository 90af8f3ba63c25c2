import pytest

from bench.pipeline_accounting import Accounting
from bench.pipeline_load import Answers, Markers
from bench.pipeline_mix import TrackerRequest
from bench.pipeline_results import PipelineRun, measurements, time_series
from bench.pipeline_sampler import Sample


def sample(at_s: float, done: float, cpu_s: float) -> Sample:
    """Every stage has handled `done` events; every process has used `cpu_s` of CPU."""
    return Sample(
        at_s=at_s,
        cpu_seconds={"enricher": cpu_s, "kafka": cpu_s / 2, "load generator": cpu_s},
        rss_bytes={"enricher": int(100 * 2**20 + at_s * 2**20), "kafka": 2**30},
        lag={"enricher": int(3000 - done) // 10, "good sink": 0},
        counters={"enricher": done, "good sink": done * 0.9, "bad sink": done * 0.1},
        searchable={"good": int(done * 0.9), "bad": int(done * 0.1)},
        machine_ticks=(int(at_s * 150), int(at_s * 200)),
    )


def finished_run(good: int = 2700, bad: int = 300) -> PipelineRun:
    answers = Answers()
    batch = TrackerRequest("POST", "/tp2", "", b"{}", events=10, invalid_events=1)
    for number in range(300):
        answers.note(batch, "200", at_s=number / 300)
    markers = Markers(
        sent_at={f"m{n}": n / 10 for n in range(10)},
        found_at={f"m{n}": n / 10 + 0.5 + n / 100 for n in range(10)},
    )
    return PipelineRun(
        events_per_s=3000,
        connections=64,
        refresh_interval="1s",
        answers=answers,
        markers=markers,
        samples=[
            sample(0.0, 0, 0.0),
            sample(0.5, 1000, 0.1),
            sample(1.0, 2000, 0.2),
            sample(2.0, 3000, 0.3),
        ],
        load_seconds=1.0,
        drained=True,
        accounting=Accounting(3000, 300, good, bad),
        load_averages=("1.00", "2.00"),
    )


def reported(run: PipelineRun) -> dict[str, float]:
    return {m.name: m.value for m in measurements(run, time_series(run))}


def test_stage_rates_are_the_pace_while_the_load_ran_and_the_drain_is_apart() -> None:
    values = reported(finished_run())
    assert values["collector events"] == 3000
    assert values["collector requests answered 200"] == 300
    # 1,000 more every half second from 0.5 s to the load's end at 1 s.
    assert values["enricher"] == pytest.approx(2000)
    assert values["end to end, sustained"] == pytest.approx(2000)
    assert values["everything searchable after the load ended"] == 1.0


def test_latency_percentiles_are_over_the_markers() -> None:
    values = reported(finished_run())
    assert values["send to searchable p50"] == pytest.approx(0.545)
    assert values["send to searchable p99"] == pytest.approx(0.5891)


def test_cpu_per_event_and_the_cores_the_target_needs_leave_the_load_generator_out() -> None:
    values = reported(finished_run())
    assert values["CPU per event, enricher"] == pytest.approx(100.0)
    assert values["CPU per event, kafka"] == pytest.approx(50.0)
    assert values["CPU per event, load generator"] == pytest.approx(100.0)
    assert values["cores the pipeline needs for 3,000 events/s"] == pytest.approx(0.45)
    assert values["CPU enricher"] == pytest.approx(20.0)
    assert values["peak RSS enricher"] == pytest.approx(102.0)


@pytest.mark.parametrize(("good", "bad", "off"), [(2700, 300, 0), (2699, 300, 1), (2701, 299, 2)])
def test_the_accounting_counts_every_event_off_its_place(good: int, bad: int, off: int) -> None:
    assert (
        reported(finished_run(good, bad))["events answered 200 without exactly one document"] == off
    )


def test_the_series_hold_lag_and_machine_use_by_second() -> None:
    series = time_series(finished_run())
    assert series["lag"]["enricher"] == [(0.0, 300), (0.5, 200), (1.0, 100), (2.0, 0)]
    assert series["machine_busy_percent"] == [(0.5, 75.0), (1.0, 75.0), (2.0, 75.0)]
    assert [point["markers"] for point in series["latency"]] == [5, 5]
