"""The listener's TCP side and its shipper on loopback sockets, Kafka replaced by a memory pipe."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from libs.batching import BatchPolicy
from libs.pipes import MemoryPipe
from services.log_listener.config import LogListenerConfig
from services.log_listener.framing import TRUNCATED_TAG
from services.log_listener.server import LogListener
from services.log_listener.shipping import LineShipper


def shipper_for(
    pipe: MemoryPipe, *, linger_s: float = 0.001, max_buffered_bytes: int = 1_000_000
) -> LineShipper:
    return LineShipper(
        pipe,
        "logs",
        batches=BatchPolicy(max_bytes=10_000, max_age_s=linger_s),
        max_buffered_bytes=max_buffered_bytes,
        max_in_flight=2,
        max_backoff_s=0.05,
    )


class Running:
    """A listener on an ephemeral port with its shipper, writing to `pipe`."""

    def __init__(self, config: LogListenerConfig, pipe: MemoryPipe) -> None:
        self.pipe = pipe
        self.shipper = shipper_for(pipe)
        self.listener = LogListener(config, self.shipper)
        self.shipping: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Running:
        self.shipping = asyncio.create_task(self.shipper.run())
        await self.listener.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.listener.stop()
        self.shipper.close()
        assert self.shipping is not None
        await self.shipping

    def entries(self) -> list[dict[str, object]]:
        return [orjson.loads(message.value) for message in self.pipe.written]

    async def wait_for(self, count: int) -> list[dict[str, object]]:
        async with asyncio.timeout(5):
            while len(self.pipe.written) < count:  # noqa: ASYNC110 - the pipe has no event
                await asyncio.sleep(0.01)
        return self.entries()


@pytest.fixture
async def running() -> AsyncIterator[Running]:
    async with Running(LogListenerConfig(port=0, max_line_bytes=4096), MemoryPipe()) as running:
        yield running


async def connect(running: Running) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", running.listener.port)


async def test_lines_of_many_connections_all_arrive(running: Running) -> None:
    writers = [(await connect(running))[1] for _ in range(20)]
    for number, writer in enumerate(writers):
        # A keep-alive, CRLF, two lines in one write, one line over two writes.
        writer.write(b'\n{"n": %d, "a": 1}\r\n{"n": %d, "a": 2}\n{"n": %d,' % ((number,) * 3))
        await writer.drain()
        writer.write(b' "a": 3}\n')
        await writer.drain()
    entries = await running.wait_for(60)
    assert sorted((entry["n"], entry["a"]) for entry in entries) == [
        (n, a) for n in range(20) for a in (1, 2, 3)
    ]
    assert {entry["host"] for entry in entries} == {"127.0.0.1"}
    for writer in writers:
        writer.close()


async def test_a_half_closed_connection_delivers_its_last_line(running: Running) -> None:
    reader, writer = await connect(running)
    writer.write(b'{"a": 1}\nno newline at the end')
    writer.write_eof()
    # The listener closes its side once it has read everything.
    assert await asyncio.wait_for(reader.read(), 5) == b""
    entries = await running.wait_for(2)
    assert [entry.get("a") for entry in entries] == [1, None]
    assert entries[1]["message"] == "no newline at the end"


async def test_binary_junk_becomes_a_message_and_a_long_line_is_cut_and_tagged(
    running: Running,
) -> None:
    _, writer = await connect(running)
    junk = bytes(byte for byte in range(256) if byte != ord("\n"))
    writer.write(junk * 4 + b"\n" + b"y" * 100_000 + b'\n{"after": true}\n')
    await writer.drain()
    entries = await running.wait_for(3)
    junk_entry, long_line, after = entries
    assert junk_entry["message"] == junk.decode(errors="replace") * 4
    assert long_line["tags"] == [TRUNCATED_TAG]
    assert long_line["message"] == "y" * 4096
    assert after["after"] is True
    writer.close()


async def test_idle_connections_are_closed() -> None:
    config = LogListenerConfig(port=0, idle_timeout_s=0.2)
    async with Running(config, MemoryPipe()) as running:
        reader, writer = await connect(running)
        writer.write(b"partial")
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), 5) == b""
        # What it had sent is not lost with it.
        assert (await running.wait_for(1))[0]["message"] == "partial"


async def test_connections_beyond_the_limit_are_closed_at_once() -> None:
    async with Running(LogListenerConfig(port=0, max_connections=2), MemoryPipe()) as running:
        kept = [await connect(running) for _ in range(2)]
        await asyncio.sleep(0.05)
        reader, _ = await connect(running)
        assert await asyncio.wait_for(reader.read(), 5) == b""
        kept[0][1].write(b"still served\n")
        assert (await running.wait_for(1))[0]["message"] == "still served"


async def test_stopping_hands_over_what_was_read_even_a_partial_line(running: Running) -> None:
    _, writer = await connect(running)
    writer.write(b"complete\nhalf a li")
    await writer.drain()
    await asyncio.sleep(0.05)
    await running.listener.stop()
    running.shipper.close()
    assert running.shipping is not None
    await running.shipping
    assert [entry["message"] for entry in running.entries()] == ["complete", "half a li"]


async def test_tls(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    openssl = await asyncio.create_subprocess_exec(
        *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
        *("-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert await openssl.wait() == 0
    config = LogListenerConfig(port=0, tls_cert_file=cert, tls_key_file=key)
    async with Running(config, MemoryPipe()) as running:
        context = ssl.create_default_context(cafile=cert)
        _, writer = await asyncio.open_connection(
            "127.0.0.1", running.listener.port, ssl=context, server_hostname="localhost"
        )
        writer.write(b'{"message": "over tls"}\n')
        await writer.drain()
        assert (await running.wait_for(1))[0]["message"] == "over tls"
        writer.close()
        # A plaintext peer is dropped after its first bytes, which are not a TLS handshake.
        reader, plain = await connect(running)
        plain.write(b'{"message": "plain"}\n')
        with contextlib.suppress(ConnectionResetError):
            assert await asyncio.wait_for(reader.read(), 5) == b""
        assert len(running.pipe.written) == 1


def test_tls_needs_both_files() -> None:
    with pytest.raises(ValueError, match="tls_cert_file and tls_key_file"):
        LogListenerConfig(tls_cert_file=Path("cert.pem"))


async def test_the_shipper_batches_many_hand_overs_into_few_writes() -> None:
    pipe = MemoryPipe()
    writes: list[int] = []
    original = pipe.write

    async def counting(messages):  # type: ignore[no-untyped-def]
        writes.append(len(messages))
        await original(messages)

    pipe.write = counting  # type: ignore[method-assign]
    shipper = shipper_for(pipe, linger_s=0.05)
    shipping = asyncio.create_task(shipper.run())
    for number in range(100):
        shipper.hand_over([b'{"n": %d}' % number])
    shipper.close()
    await shipping
    assert [orjson.loads(m.value)["n"] for m in pipe.written] == list(range(100))
    assert writes == [100]


async def test_the_shipper_retries_until_kafka_takes_the_lines_and_holds_readers_back() -> None:
    pipe = MemoryPipe(healthy=False)
    shipper = shipper_for(pipe, max_buffered_bytes=1_048_576)
    shipping = asyncio.create_task(shipper.run())
    shipper.hand_over([b"x" * 1_048_577])
    waiting = asyncio.create_task(shipper.wait_for_room())
    await asyncio.sleep(0.2)
    assert not shipper.is_healthy()
    assert not waiting.done()
    assert shipper.held_entries == 1
    pipe.healthy = True
    await asyncio.wait_for(waiting, 5)
    assert shipper.is_healthy()
    assert shipper.held_entries == 0
    assert len(pipe.written) == 1
    shipper.close()
    await shipping
