"""The forwarder's loop over in-memory pipes and a scripted target: what is sent, retried, made a
bad row, and when offsets are committed."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import jsonschema
import orjson
import pytest

from libs.batching import BatchPolicy
from libs.formats import badrows
from libs.pipes import MemoryPipe, Record
from services.forward.config import FilterSettings
from services.forward.filters import compile_filter
from services.forward.forwarder import Forwarder
from services.forward.payloads import event_json
from services.forward.retries import DELIVERED, Answer, RetryPolicy, Verdict
from tests.enriched_events import enriched_lines

SCHEMA = Path(badrows.BUILTIN_SCHEMAS, badrows.VENDOR, "event_forwarding_error/jsonschema/1-0-0")
RETRY = Answer(Verdict.RETRY, "HTTP 503: busy", 503)


class ScriptedTarget:
    """Answers each send as `answer(events)` says; keeps every batch it was sent."""

    def __init__(self, answer: object = None) -> None:
        self.batches: list[list[dict[str, object]]] = []
        self._answer = answer

    async def start(self) -> None:
        return None

    async def send(self, events: Sequence[bytes]) -> Answer:
        batch = [orjson.loads(event) for event in events]
        self.batches.append(batch)
        if callable(self._answer):
            answer: Answer = self._answer(batch)
            return answer
        return DELIVERED

    async def stop(self) -> None:
        return None

    def event_ids(self) -> list[object]:
        return [event["event_id"] for batch in self.batches for event in batch]


def records(count: int) -> list[Record]:
    return [
        Record("good", 0, offset, line, timestamp_ms=1_795_388_400_000 + offset)
        for offset, line in enumerate(enriched_lines(count))
    ]


async def forward(
    target: ScriptedTarget,
    batches: list[list[Record]],
    *,
    event_filter: dict[str, object] | None = None,
    max_events: int = 10,
    max_attempts: int = 5,
) -> tuple[MemoryPipe, MemoryPipe, list[float]]:
    source, bad = MemoryPipe(), MemoryPipe()
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    forwarder = Forwarder(
        "test",
        event_filter=compile_filter(
            None if event_filter is None else FilterSettings.model_validate(event_filter)
        ),
        shape=lambda line: event_json(line, None),
        target=target,
        bad_sink=bad,
        bad_topic="bad",
        limits=BatchPolicy(max_bytes=1 << 20, max_age_s=0.05, max_count=max_events),
        policy=RetryPolicy(max_attempts, 30.0),
        max_in_flight=2,
        sleep=sleep,
    )
    for batch in batches:
        source.feed(batch)
    source.close()
    async with asyncio.timeout(10):
        await forwarder.run(source)
    return source, bad, waits


def bad_rows(bad: MemoryPipe) -> list[dict[str, object]]:
    return [orjson.loads(message.value) for message in bad.written]


def assert_valid(row: dict[str, object]) -> None:
    assert row["schema"] == badrows.EVENT_FORWARDING_ERROR
    validator = jsonschema.Draft4Validator(
        orjson.loads(SCHEMA.read_bytes()), format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )
    validator.validate(row["data"])


async def test_every_event_is_sent_in_batches_and_committed() -> None:
    target = ScriptedTarget()
    sent = records(25)
    source, bad, _ = await forward(target, [sent[:12], sent[12:]])
    expected = [orjson.loads(event_json(r.value, None))["event_id"] for r in sent]
    assert target.event_ids() == expected
    assert max(len(batch) for batch in target.batches) == 10
    assert source.committed == {("good", 0): 25}
    assert bad.written == []


async def test_a_busy_destination_is_retried_with_growing_waits() -> None:
    answers = iter([RETRY, RETRY, RETRY])
    target = ScriptedTarget(lambda batch: next(answers, DELIVERED))
    source, bad, waits = await forward(target, [records(5)])
    assert waits == [0.5, 1.0, 2.0]
    assert len(target.batches) == 4
    assert source.committed == {("good", 0): 5}
    assert bad.written == []


async def test_events_past_the_retry_budget_become_bad_rows_then_are_committed() -> None:
    target = ScriptedTarget(lambda batch: RETRY)
    source, bad, waits = await forward(target, [records(3)], max_attempts=3)
    assert len(target.batches) == 3
    assert waits == [0.5, 1.0]
    rows = bad_rows(bad)
    assert len(rows) == 3
    for row, record in zip(rows, records(3), strict=True):
        assert_valid(row)
        data = row["data"]
        assert isinstance(data, dict)
        assert data["payload"] == record.value.decode()
        assert data["failure"]["errorType"] == "RetriesExhausted"
        assert data["failure"]["errorCode"] == "503"
        assert data["failure"]["errorMessage"] == "destination test: HTTP 503: busy"
        assert orjson.loads(data["failure"]["latestState"])["event_id"] in record.value.decode()
    assert [message.timestamp_ms for message in bad.written] == [r.timestamp_ms for r in records(3)]
    assert source.committed == {("good", 0): 3}


async def test_a_refused_batch_is_split_down_to_the_events_refused() -> None:
    sent = records(10)
    refused_id = orjson.loads(event_json(sent[6].value, None))["event_id"]

    def answer(batch: list[dict[str, object]]) -> Answer:
        if any(event["event_id"] == refused_id for event in batch):
            return Answer(Verdict.REFUSED, "HTTP 400: no", 400)
        return DELIVERED

    target = ScriptedTarget(answer)
    source, bad, waits = await forward(target, [sent])
    delivered = [
        str(event["event_id"])
        for batch in target.batches
        if refused_id not in [e["event_id"] for e in batch]
        for event in batch
    ]
    assert sorted(delivered) == sorted(
        orjson.loads(event_json(r.value, None))["event_id"] for r in sent if r is not sent[6]
    )
    (row,) = bad_rows(bad)
    assert_valid(row)
    data = row["data"]
    assert isinstance(data, dict)
    assert data["failure"]["errorType"] == "Refused"
    assert data["failure"]["errorCode"] == "400"
    assert data["payload"] == sent[6].value.decode()
    assert waits == []
    assert source.committed == {("good", 0): 10}


@pytest.mark.parametrize("event_filter", [None, {"app_id": ["shop"]}])
async def test_unreadable_records_become_bad_rows_and_the_rest_is_sent(
    event_filter: dict[str, object] | None,
) -> None:
    sent = records(3)
    broken = [
        Record("good", 0, 3, b"not an enriched event"),
        Record("good", 0, 4, b"\xff\xfe"),
        Record("good", 0, 5, sent[0].value.replace(b"\tsp\t", b"\tsp\tx\t", 1)),
    ]
    target = ScriptedTarget()
    source, bad, _ = await forward(target, [sent + broken], event_filter=event_filter)
    assert len(target.event_ids()) == 3
    rows = bad_rows(bad)
    assert [row["data"]["failure"]["errorType"] for row in rows] == ["TransformationError"] * 3  # type: ignore[index]
    for row in rows:
        assert_valid(row)
    assert source.committed == {("good", 0): 6}


async def test_filtered_out_events_are_committed_without_being_sent() -> None:
    target = ScriptedTarget()
    source, bad, _ = await forward(
        target, [records(20)], event_filter={"event_name": ["page_view"]}
    )
    assert bad.written == []
    assert len(target.event_ids()) == 4
    assert source.committed == {("good", 0): 20}
    everything_filtered = ScriptedTarget()
    source, _, _ = await forward(
        everything_filtered, [records(20)], event_filter={"app_id": ["nobody"]}
    )
    assert everything_filtered.batches == []
    assert source.committed == {("good", 0): 20}


async def test_nothing_is_committed_past_a_batch_still_being_retried() -> None:
    release = asyncio.Event()
    source, bad = MemoryPipe(), MemoryPipe()
    first = True

    class StuckOnce(ScriptedTarget):
        async def send(self, events: Sequence[bytes]) -> Answer:
            nonlocal first
            if first:
                first = False
                await release.wait()
            return await super().send(events)

    forwarder = Forwarder(
        "test",
        event_filter=compile_filter(None),
        shape=lambda line: event_json(line, None),
        target=StuckOnce(),
        bad_sink=bad,
        bad_topic="bad",
        limits=BatchPolicy(max_bytes=1 << 20, max_age_s=0.05, max_count=5),
        policy=RetryPolicy(5, 30.0),
        max_in_flight=2,
    )
    source.feed(records(10))
    running = asyncio.create_task(forwarder.run(source))
    await asyncio.sleep(0.3)
    # The second batch is delivered, the first is not: nothing may be committed yet.
    assert source.committed == {}
    release.set()
    source.close()
    await asyncio.wait_for(running, 5)
    assert source.committed == {("good", 0): 10}


@pytest.mark.parametrize("max_events", [1, 3, 500])
async def test_batch_sizes_follow_the_limits(max_events: int) -> None:
    target = ScriptedTarget()
    await forward(target, [records(7)], max_events=max_events)
    assert sum(len(batch) for batch in target.batches) == 7
    assert max(len(batch) for batch in target.batches) == min(max_events, 7)


async def test_a_destination_asking_for_time_gets_it() -> None:
    answers = iter([Answer(Verdict.RETRY, "HTTP 429: slow down", 429, retry_after_s=5.0)])
    target = ScriptedTarget(lambda batch: next(answers, DELIVERED))
    source, bad, waits = await forward(target, [records(3)])
    assert waits == [5.0]
    assert source.committed == {("good", 0): 3}
    assert bad.written == []
