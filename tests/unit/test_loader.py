"""The sink's loop on an in-memory pipe and a fake Elasticsearch: what is committed when."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson
import pytest
from prometheus_client import REGISTRY

from libs.batching import BatchPolicy
from libs.formats import badrows
from libs.formats.enriched import timestamp, to_tsv
from libs.pipes import MemoryPipe, Record, SinkError
from services.sinks.bulks import BulkItem
from services.sinks.elastic import Rejection
from services.sinks.loader import IndexedBadRows, KafkaBadRows, Loader

LIMITS = BatchPolicy(max_bytes=1_000_000, max_age_s=0.05, max_count=2)


class FakeIndexer:
    """Indexes into a dict (`_id` -> source, read back from the bulk lines); refuses the sources
    `refuses` says; each call waits for `gate` if set."""

    alias = "logs"

    def __init__(self, refuses: Callable[[str, Any], bool] = lambda id_, source: False) -> None:
        self.indexed: dict[str, Any] = {}
        self.calls: list[list[str]] = []
        self.refuses = refuses
        self.gate: asyncio.Event | None = None
        self.failure: Exception | None = None

    async def index(self, items: Sequence[BulkItem]) -> list[Rejection]:
        self.calls.append([item.id for item in items])
        if self.gate is not None:
            await self.gate.wait()
        if self.failure is not None:
            raise self.failure
        rejections = []
        for item in items:
            action, source = (orjson.loads(line) for line in item.lines.splitlines())
            assert action["index"]["_id"] == item.id
            if self.refuses(item.id, source):
                rejections.append(Rejection(item, "mapper_parsing_exception: no"))
            else:
                self.indexed[item.id] = source
        return rejections


def log_record(offset: int, value: bytes | None = None, partition: int = 0) -> Record:
    return Record(
        topic="logs",
        partition=partition,
        offset=offset,
        value=value if value is not None else b'{"message": "m%d"}' % offset,
        timestamp_ms=1_795_000_000_000,
    )


async def run(loader: Loader, pipe: MemoryPipe, batches: list[list[Record]]) -> None:
    for batch in batches:
        pipe.feed(batch)
    pipe.close()
    await asyncio.wait_for(loader.run(pipe), 5)


def loader(indexer: FakeIndexer, pipe: MemoryPipe, *, kind: str = "logs") -> Loader:
    bad_rows = IndexedBadRows(indexer) if kind == "bad" else KafkaBadRows(pipe, "bad")
    return Loader(kind, indexer, bad_rows, LIMITS, max_concurrent=2)  # type: ignore[arg-type]


async def test_every_record_is_indexed_and_committed() -> None:
    pipe, indexer = MemoryPipe(), FakeIndexer()
    records = [log_record(offset) for offset in range(5)]
    await run(loader(indexer, pipe), pipe, [records[:3], records[3:]])
    assert sorted(indexer.indexed) == [f"logs-0-{offset}" for offset in range(5)]
    # Full bulks of two, the last one sent when the source closed.
    assert [len(call) for call in indexer.calls] == [2, 2, 1]
    assert pipe.committed == {("logs", 0): 5}


async def test_a_bulk_waits_no_longer_than_the_flush_interval() -> None:
    pipe, indexer = MemoryPipe(), FakeIndexer()
    loading = asyncio.create_task(loader(indexer, pipe).run(pipe))
    pipe.feed([log_record(0)])
    await asyncio.sleep(LIMITS.max_age_s * 3)
    assert indexer.calls == [["logs-0-0"]]
    assert pipe.committed == {("logs", 0): 1}
    pipe.close()
    await loading


async def test_nothing_is_committed_before_elasticsearch_acknowledges() -> None:
    pipe, indexer = MemoryPipe(), FakeIndexer()
    indexer.gate = asyncio.Event()
    loading = asyncio.create_task(loader(indexer, pipe).run(pipe))
    pipe.feed([log_record(offset) for offset in range(2)])
    await asyncio.sleep(0.05)
    assert indexer.calls and pipe.committed == {}
    indexer.gate.set()
    pipe.close()
    await loading
    assert pipe.committed == {("logs", 0): 2}


async def test_reading_stops_while_every_bulk_slot_is_busy() -> None:
    pipe, indexer = MemoryPipe(), FakeIndexer()
    indexer.gate = asyncio.Event()
    loading = asyncio.create_task(loader(indexer, pipe).run(pipe))
    for offset in range(0, 20, 2):
        pipe.feed([log_record(offset), log_record(offset + 1)])
    await asyncio.sleep(0.1)
    # Two bulks in flight and a third full one waiting for a slot; the rest stays in Kafka.
    assert len(indexer.calls) == 2
    assert pipe._queue.qsize() >= 6
    indexer.gate.set()
    pipe.close()
    await loading
    assert len(indexer.indexed) == 20


async def test_a_failure_retrying_cannot_fix_leaves_the_records_uncommitted() -> None:
    pipe, indexer = MemoryPipe(), FakeIndexer()
    indexer.failure = RuntimeError("Elasticsearch answered 400 to the whole bulk")
    with pytest.raises(ExceptionGroup) as raised:
        await run(loader(indexer, pipe), pipe, [[log_record(0), log_record(1)]])
    assert raised.group_contains(RuntimeError)
    assert pipe.committed == {}


async def test_unreadable_and_refused_records_go_to_the_bad_topic_before_the_commit() -> None:
    pipe, indexer = MemoryPipe(), FakeIndexer(lambda id_, source: id_ == "logs-0-1")
    records = [log_record(0), log_record(1), log_record(2, b"not json")]
    await run(loader(indexer, pipe), pipe, [records])
    assert sorted(indexer.indexed) == ["logs-0-0"]
    assert [message.topic for message in pipe.written] == ["bad", "bad"]
    errors = sorted(orjson.loads(m.value)["data"]["failure"]["errors"][0] for m in pipe.written)
    assert errors[0] == "Elasticsearch refused the document: mapper_parsing_exception: no"
    assert errors[1].startswith("not JSON")
    # Stamped with the time of their record: a redelivery makes the same row again.
    assert {message.timestamp_ms for message in pipe.written} == {1_795_000_000_000}
    assert pipe.committed == {("logs", 0): 3}


async def test_a_bad_row_the_bad_topic_cannot_take_leaves_its_record_uncommitted() -> None:
    pipe, indexer = MemoryPipe(), FakeIndexer()
    pipe.healthy = False
    with pytest.raises(ExceptionGroup) as raised:
        await run(loader(indexer, pipe), pipe, [[log_record(0, b"not json")]])
    assert raised.group_contains(SinkError)
    assert pipe.committed == {}


async def test_the_bad_sink_indexes_its_own_bad_rows_in_place_of_their_records() -> None:
    odd = "iglu:com.acme/odd/jsonschema/1-0-0"
    pipe, indexer = MemoryPipe(), FakeIndexer(lambda id_, source: source["schema"] == odd)
    indexer.alias = "bad"
    refused_row = orjson.dumps({"schema": odd, "data": {}})
    document_id = hashlib.sha256(refused_row).hexdigest()
    records = [log_record(0, refused_row), log_record(1, b"not json")]
    await run(loader(indexer, pipe, kind="bad"), pipe, [records])
    # Nothing goes back to the bad topic, the sink's own input.
    assert pipe.written == []
    stand_in = indexer.indexed[document_id]
    assert stand_in["schema"] == badrows.GENERIC_ERROR
    assert stand_in["data"]["payload_string"] == refused_row.decode()
    assert len(indexer.indexed) == 2
    assert pipe.committed == {("logs", 0): 2}


async def test_the_good_sink_observes_the_age_of_a_sample_of_acknowledged_events() -> None:
    pipe, indexer = MemoryPipe(), FakeIndexer(lambda id_, source: id_ == "old")
    indexer.alias = "latency-test"
    now_ms = int(time.time() * 1000)
    ages_s = {f"event-{number}": 2 for number in range(39)} | {"old": 3600}
    records = [
        Record(
            topic="good",
            partition=0,
            offset=offset,
            value=to_tsv(
                {"event_id": id_, "collector_tstamp": timestamp(now_ms - age_s * 1000)}
            ).encode(),
            timestamp_ms=now_ms,
        )
        for offset, (id_, age_s) in enumerate(ages_s.items())
    ]
    limits = BatchPolicy(max_bytes=10_000_000, max_age_s=0.05, max_count=40)
    good = Loader("good", indexer, KafkaBadRows(pipe, "bad"), limits, max_concurrent=1)
    await run(good, pipe, [records])
    assert len(indexer.indexed) == 39

    def observed(name: str, **labels: str) -> float | None:
        return REGISTRY.get_sample_value(
            f"furrow_sink_collector_to_indexed_seconds_{name}", {"index": "latency-test", **labels}
        )

    # 16 of the 39 acknowledged events, none of them the refused hour-old one.
    assert observed("count") == 16
    assert observed("bucket", le="1.5") == 0
    assert observed("bucket", le="3.0") == 16
