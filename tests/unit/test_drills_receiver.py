"""The forward drill's receiver: takes events, answers 503 or refuses connections on its port
while the drill says so, and takes events again on the same port."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from drills.receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    receiver = Receiver(port)
    yield receiver
    receiver.stop()


def post(receiver: Receiver, *event_ids: str) -> int:
    events = [{"event_id": event_id, "event_name": "page_view"} for event_id in event_ids]
    return httpx.post(receiver.url, json=events, timeout=5).status_code


def test_the_receiver_keeps_what_it_took_through_refusals_and_503s(receiver: Receiver) -> None:
    receiver.serve()
    assert post(receiver, "a", "b") == 200

    receiver.refuse()
    with pytest.raises(httpx.ConnectError):
        post(receiver, "c")

    receiver.serve(unavailable=True)
    assert post(receiver, "c") == 503
    assert post(receiver, "c") == 503

    receiver.serve()
    assert post(receiver, "c", "a") == 200
    assert receiver.received == ["a", "b", "c", "a"]
    assert receiver.unavailable_answers == 2

    receiver.stop()
    with pytest.raises(httpx.ConnectError):
        post(receiver, "d")
