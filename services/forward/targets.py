"""Where a destination's batches go: an HTTP endpoint (any, or Amplitude's HTTP V2 API) or a
Kafka topic. A target sends one batch once and says how it went; retrying is the forwarder's."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import httpx

from libs.config import KafkaSettings
from libs.kafka import KafkaSink
from libs.pipes import Message, SinkError
from services.forward.config import AMPLITUDE_URL, DestinationSettings
from services.forward.payloads import amplitude_request
from services.forward.retries import (
    DELIVERED,
    Answer,
    Verdict,
    retry_after_s,
    verdict_of_status,
)

# What a refusal's body may add to the bad row's message.
REASON_CHARS = 500


class Target(Protocol):
    async def start(self) -> None: ...

    async def send(self, events: Sequence[bytes]) -> Answer:
        """Send the encoded events once."""
        ...

    async def stop(self) -> None: ...


Body = Callable[[Sequence[bytes]], bytes]


def json_array(events: Sequence[bytes]) -> bytes:
    return b"[" + b",".join(events) + b"]"


class HttpTarget:
    """POSTs each batch as one JSON body over a pool of kept-alive connections."""

    def __init__(
        self,
        url: str,
        body: Body,
        *,
        headers: dict[str, str],
        timeout_s: float,
        connections: int,
    ) -> None:
        self._url = url
        self._body = body
        self._client = httpx.AsyncClient(
            headers={"Content-Type": "application/json", **headers},
            timeout=timeout_s,
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        )

    async def start(self) -> None:
        return None

    async def send(self, events: Sequence[bytes]) -> Answer:
        try:
            response = await self._client.post(self._url, content=self._body(events))
        except httpx.HTTPError as error:
            # Never str(request): the headers hold the credentials.
            return Answer(Verdict.RETRY, f"{type(error).__name__}: {error}")
        verdict = verdict_of_status(response.status_code)
        if verdict is Verdict.DELIVERED:
            return DELIVERED
        reason = f"HTTP {response.status_code}: {response.text[:REASON_CHARS]}"
        asked_s = retry_after_s(response.headers.get("Retry-After"))
        return Answer(verdict, reason, response.status_code, asked_s)

    async def stop(self) -> None:
        await self._client.aclose()


class KafkaTarget:
    """Writes each event as one record of `topic`; a write Kafka does not take is retried."""

    def __init__(self, settings: KafkaSettings, topic: str) -> None:
        self._sink = KafkaSink(settings)
        self._topic = topic

    async def start(self) -> None:
        await self._sink.start()

    async def send(self, events: Sequence[bytes]) -> Answer:
        try:
            await self._sink.write([Message(self._topic, event) for event in events])
        except SinkError as error:
            return Answer(Verdict.RETRY, str(error))
        return DELIVERED

    async def stop(self) -> None:
        await self._sink.stop()


def target_for(
    destination: DestinationSettings, secret: str | None, kafka: KafkaSettings
) -> Target:
    """The target `destination` describes; `secret` is its auth header's value or API key."""
    connections = destination.max_in_flight
    if destination.target == "kafka":
        assert destination.topic is not None
        return KafkaTarget(kafka, destination.topic)
    if destination.target == "amplitude":
        assert secret is not None
        api_key = secret
        return HttpTarget(
            destination.url or AMPLITUDE_URL,
            lambda events: amplitude_request(api_key, events),
            headers=destination.headers,
            timeout_s=destination.request_timeout_s,
            connections=connections,
        )
    assert destination.url is not None
    headers = dict(destination.headers)
    if destination.auth_header is not None and secret is not None:
        headers[destination.auth_header] = secret
    return HttpTarget(
        destination.url,
        json_array,
        headers=headers,
        timeout_s=destination.request_timeout_s,
        connections=connections,
    )
