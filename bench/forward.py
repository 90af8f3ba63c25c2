"""The forwarder's events/s from Kafka to an HTTP receiver that answers at once, in a process of its
own: what `furrow forward` does per destination with its default settings, every event passing
(no filter) and sent whole."""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bench.timed import Timed
from devstack.launcher import ChildProcess
from devstack.process import run_dir, unused_port
from devstack.topics import create_topics, delete_topics
from libs.config import KafkaSettings
from libs.kafka import KafkaSink, KafkaSource
from libs.pipes import Message
from services.forward.config import DestinationSettings
from services.forward.forwarder import destination_forwarder
from services.forward.targets import target_for


def _receiver_app() -> Starlette:
    """Takes every batch at once, counting its events."""
    received = 0

    async def events(request: Request) -> Response:
        nonlocal received
        # Read first: `received += await ...` would add to the count from before the wait.
        body = await request.body()
        received += body.count(b'"event_id":')
        return Response(b"{}", media_type="application/json")

    async def count(request: Request) -> Response:
        return PlainTextResponse(str(received))

    return Starlette(routes=[Route("/events", events, methods=["POST"]), Route("/count", count)])


receiver = _receiver_app()


def forwarder_rate(settings: KafkaSettings, lines: list[bytes]) -> float:
    """Events/s of one destination forwarding `lines` from a fresh topic to a receiver process."""
    port = unused_port()
    url = f"http://127.0.0.1:{port}"
    with ChildProcess(
        "the forwarder's receiver",
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.forward:receiver",
            f"--port={port}",
            "--no-access-log",
        ],
        dict(os.environ),
        f"{url}/count",
        run_dir() / "bench-forward-receiver.log",
        stop_grace_s=10,
    ):
        return asyncio.run(_forward(settings, lines, url))


async def _forward(settings: KafkaSettings, lines: list[bytes], receiver_url: str) -> float:
    tag = uuid.uuid4().hex[:8]
    good, bad = f"bench-{tag}-forward-good", f"bench-{tag}-forward-bad"
    await create_topics(settings.bootstrap_servers, [good, bad], partitions=2)
    writer = KafkaSink(settings)
    await writer.start()
    try:
        await writer.write([Message(good, line) for line in lines])
        destination = DestinationSettings(name="bench", target="http", url=f"{receiver_url}/events")
        target = target_for(destination, None, settings)
        forwarder = destination_forwarder(destination, target, bad_sink=writer, bad_topic=bad)
        kafka_source = KafkaSource(settings, [good], f"bench-{tag}-forward")
        source = Timed(kafka_source, len(lines))
        await kafka_source.start()
        try:
            await forwarder.run(source)
        finally:
            await kafka_source.stop()
            await target.stop()
        assert source.first_batch_at is not None
        rate = len(lines) / (time.perf_counter() - source.first_batch_at)
        async with httpx.AsyncClient() as client:
            received = int((await client.get(f"{receiver_url}/count")).text)
        assert received >= len(lines), f"the receiver got {received} of {len(lines)} events"
        return rate
    finally:
        await writer.stop()
        await delete_topics(settings.bootstrap_servers, [good, bad])
