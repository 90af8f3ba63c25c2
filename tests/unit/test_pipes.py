import asyncio

import pytest

from libs.pipes import MemoryPipe, Message, Record, SinkError, run_pipe, write_patiently


def record(offset: int, partition: int = 0) -> Record:
    return Record(topic="raw", partition=partition, offset=offset, value=b"v%d" % offset)


async def test_batches_are_committed_after_their_handler_returns() -> None:
    pipe = MemoryPipe()
    pipe.feed([record(0), record(1), record(0, partition=1)])
    pipe.feed([record(2)])
    pipe.close()
    seen: list[dict[tuple[str, int], int]] = []

    async def handle(batch: list[Record]) -> None:
        seen.append(dict(pipe.committed))

    await run_pipe(pipe, handle)
    assert seen == [{}, {("raw", 0): 2, ("raw", 1): 1}]
    assert pipe.committed == {("raw", 0): 3, ("raw", 1): 1}


async def test_a_failing_handler_leaves_its_batch_uncommitted() -> None:
    pipe = MemoryPipe()
    pipe.feed([record(0)])
    pipe.feed([record(1)])

    async def handle(batch: list[Record]) -> None:
        if batch[0].offset == 1:
            raise SinkError("Kafka down")

    with pytest.raises(SinkError):
        await run_pipe(pipe, handle)
    assert pipe.committed == {("raw", 0): 1}


async def test_an_unhealthy_memory_sink_refuses_writes() -> None:
    pipe = MemoryPipe(healthy=False)
    with pytest.raises(SinkError):
        await pipe.write([Message("bad", b"x")])
    assert pipe.written == []


async def test_a_patient_write_waits_out_an_outage_of_the_sink() -> None:
    pipe = MemoryPipe(healthy=False)
    message = Message("good", b"line")
    writing = asyncio.create_task(write_patiently(pipe, [message], max_backoff_s=0.01))
    await asyncio.sleep(0.05)
    assert not writing.done() and pipe.written == []
    pipe.healthy = True
    await asyncio.wait_for(writing, timeout=5)
    assert pipe.written == [message]
