"""`make bench PARTS=pipeline` in small: a few seconds of load at a low rate through the real
collector, enricher and sinks. What is checked is bookkeeping, never speed."""

from __future__ import annotations

import uuid

from bench.pipeline import Settings, run_pipeline
from bench.pipeline_load import MARKER_INTERVAL_S
from bench.pipeline_results import measurements, time_series

SECONDS = 5.0


def test_every_event_answered_200_is_one_document_and_every_marker_is_seen(
    kafka_bootstrap: str, elasticsearch_url: str
) -> None:
    result = run_pipeline(Settings(seconds=SECONDS, events_per_s=300, tag=uuid.uuid4().hex[:8]))

    assert set(result.answers.statuses) == {"200"}
    assert result.answers.accepted_events > 0
    assert result.answers.accepted_invalid > 0
    assert result.drained
    assert result.accounting.exact, result.accounting.describe()
    assert len(result.markers.sent_at) == round(SECONDS / MARKER_INTERVAL_S)
    assert set(result.markers.found_at) == set(result.markers.sent_at)

    reported = {m.name: m for m in measurements(result, time_series(result))}
    assert reported["events answered 200 without exactly one document"].value == 0
    assert {"CPU enricher", "peak RSS good sink", "max lag, enricher"} <= set(reported)
