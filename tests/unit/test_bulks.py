import orjson
import pytest

from libs.batching import BatchPolicy
from libs.pipes import Record
from services.sinks.bulks import BadRow, Bulk, BulkItem, CommitTracker, add_records, bulk_item
from services.sinks.documents import Document

LIMITS = BatchPolicy(max_bytes=100, max_age_s=1.0, max_count=3)


def record(offset: int, partition: int = 0) -> Record:
    return Record(topic="t", partition=partition, offset=offset, value=b"v")


def item(size: int) -> BulkItem:
    return BulkItem("id", record(0), b"x" * size)


@pytest.mark.parametrize(
    ("sizes", "bad_rows", "full"),
    [
        ([], 0, False),
        ([10, 10], 0, False),
        ([10, 10, 10], 0, True),
        ([10], 2, True),
        ([99], 0, False),
        ([100], 0, True),
        ([], 1, False),
    ],
)
def test_a_bulk_is_full_by_count_or_bytes(sizes: list[int], bad_rows: int, full: bool) -> None:
    bulk = Bulk(ticket=1)
    for size in sizes:
        bulk.add_item(item(size), now=0.0)
    for _ in range(bad_rows):
        bulk.add_bad_row(BadRow(record(0), b"row"), now=0.0)
    assert bulk.is_full(LIMITS) is full


def test_a_bulk_is_due_by_the_age_of_its_first_outcome() -> None:
    bulk = Bulk(ticket=1)
    assert bulk.is_empty()
    assert bulk.due_in(LIMITS, now=5.0) is None
    bulk.add_item(item(1), now=10.0)
    bulk.add_item(item(1), now=10.8)
    assert not bulk.is_empty()
    assert bulk.due_in(LIMITS, now=10.5) == pytest.approx(0.5)
    assert bulk.due_in(LIMITS, now=11.5) == pytest.approx(-0.5)


def offsets(records: list[Record]) -> dict[int, int]:
    return {r.partition: r.offset for r in records}


# (bulk tickets of the records read in order, as (ticket, offset, partition)),
# completion order, committable offsets per partition after each completion)
CASES = [
    ([(1, 0, 0), (1, 1, 0), (2, 2, 0)], [1, 2], [{0: 1}, {0: 2}]),
    ([(1, 0, 0), (1, 1, 0), (2, 2, 0)], [2, 1], [{}, {0: 2}]),
    ([(1, 0, 0), (2, 1, 0), (3, 2, 0)], [3, 1, 2], [{}, {0: 0}, {0: 2}]),
    ([(1, 0, 0), (1, 0, 1), (2, 1, 1)], [2, 1], [{}, {0: 0, 1: 1}]),
    # A partition only in the later bulk is not held back by the earlier one.
    ([(1, 0, 0), (2, 0, 1)], [2, 1], [{1: 0}, {0: 0}]),
    # A bulk that is split across two runs of the same partition.
    ([(1, 0, 0), (2, 1, 0), (1, 2, 0)], [1, 2], [{0: 0}, {0: 2}]),
]


@pytest.mark.parametrize(("reads", "completions", "expected"), CASES)
def test_commits_follow_the_completed_prefix_of_each_partition(
    reads: list[tuple[int, int, int]], completions: list[int], expected: list[dict[int, int]]
) -> None:
    tracker = CommitTracker()
    for ticket, offset, partition in reads:
        tracker.add(ticket, record(offset, partition))
    seen = []
    for ticket in completions:
        tracker.complete(ticket)
        seen.append(offsets(tracker.committable()))
    assert seen == expected
    assert tracker.committable() == []


def test_records_that_come_again_are_offered_for_commit_again() -> None:
    tracker = CommitTracker()
    tracker.add(1, record(5))
    tracker.complete(1)
    assert offsets(tracker.committable()) == {0: 5}
    # A rebalance delivers offsets 3..5 again, perhaps because the commit of 5 was refused:
    # they are offered again (the source, which knows what Kafka took, never goes backwards).
    tracker.add(2, record(3))
    tracker.add(2, record(4))
    tracker.add(2, record(5))
    tracker.complete(2)
    assert offsets(tracker.committable()) == {0: 5}
    tracker.add(3, record(6))
    tracker.complete(3)
    assert offsets(tracker.committable()) == {0: 6}


def test_a_bulk_with_no_records_completes_without_a_trace() -> None:
    tracker = CommitTracker()
    tracker.complete(7)
    tracker.add(8, record(0))
    tracker.complete(8)
    assert offsets(tracker.committable()) == {0: 0}


@pytest.mark.parametrize(
    ("alias", "day", "id_"),
    [
        ("good", "2026.11.23", "6f1c1f2e-0000-4000-8000-000000000001"),
        ("good", "2026.11.24", "6f1c1f2e-0000-4000-8000-000000000001"),
        ("bad", "2026.11.23", 'a "quoted" \\ id'),
        ("logs", "2026.11.23", "caf\u00e9-\u2028"),
    ],
)
def test_a_bulk_item_is_an_action_line_and_the_source(alias: str, day: str, id_: str) -> None:
    source = b'{"n":1}'
    # Twice: the second takes the start of the action line as made for the first.
    for _ in range(2):
        item = bulk_item(alias, Document(id_, day, source, record(7)))
        action, written, end = item.lines.split(b"\n")
        assert orjson.loads(action) == {"index": {"_index": f"{alias}-{day}", "_id": id_}}
        assert (written, end, item.id, item.record) == (source, b"", id_, record(7))


def log_record(offset: int, value: bytes) -> Record:
    return Record("logs", 0, offset, value, timestamp_ms=1_795_000_000_000)


def test_records_are_added_until_the_bulk_is_full() -> None:
    records = [log_record(0, b'{"message":"a"}'), log_record(1, b"not json")]
    records += [log_record(offset, b'{"message":"b"}') for offset in range(2, 6)]
    bulk, tracker = Bulk(ticket=1), CommitTracker()
    limits = BatchPolicy(max_bytes=10**6, max_age_s=1.0, max_count=3)
    next_record = add_records(
        bulk, tracker, records, 0, len(records), kind="logs", alias="logs", limits=limits, now=5.0
    )
    assert next_record == 3
    assert [item.record.offset for item in bulk.items] == [0, 2]
    assert [bad.record.offset for bad in bulk.bad_rows] == [1]
    assert bulk.started == 5.0
    tracker.complete(1)
    assert tracker.committable() == [records[2]]


def test_records_are_added_up_to_the_stop() -> None:
    records = [log_record(offset, b'{"message":"a"}') for offset in range(5)]
    bulk, tracker = Bulk(ticket=1), CommitTracker()
    limits = BatchPolicy(max_bytes=10**6, max_age_s=1.0, max_count=10)
    assert (
        add_records(bulk, tracker, records, 1, 3, kind="logs", alias="logs", limits=limits, now=0.0)
        == 3
    )
    assert [item.record.offset for item in bulk.items] == [1, 2]
