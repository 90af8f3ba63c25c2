"""The forward drill's destination: an HTTP endpoint on a thread of its own that keeps the event id
of every event it takes, and that the drill can make refuse connections or answer 503."""

from __future__ import annotations

import socket
import threading
import time

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_START_TIMEOUT_S = 10.0


class Receiver:
    """Events POSTed to `url` as a JSON array, as `furrow forward`'s http target sends them."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}/events"
        # The event ids of every request answered 200, repeats included.
        self.received: list[str] = []
        self.unavailable_answers = 0
        self._unavailable = False
        self._server: uvicorn.Server | None = None
        self._serving: threading.Thread | None = None
        # Bound but not listening while the receiver refuses: connections to it are refused,
        # and the port stays ours.
        self._held: socket.socket | None = None
        self._app = Starlette(routes=[Route("/events", self._post, methods=["POST"])])

    def serve(self, *, unavailable: bool = False) -> None:
        """Listen (if it does not yet), answering every request 503 when `unavailable`, else
        taking its events."""
        self._unavailable = unavailable
        if self._server is not None:
            return
        listening = self._held or _bound(self.port)
        self._held = None
        # Its start and stop lines would crowd the drills' own progress lines.
        config = uvicorn.Config(self._app, log_config=None, log_level="warning", access_log=False)
        server = uvicorn.Server(config)
        self._serving = threading.Thread(
            target=server.run, kwargs={"sockets": [listening]}, name="receiver", daemon=True
        )
        self._server = server
        self._serving.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not server.started:
            if not self._serving.is_alive() or time.monotonic() > deadline:
                raise OSError(f"the drill's receiver did not start on port {self.port}")
            time.sleep(0.05)

    def refuse(self) -> None:
        """Stop listening, keeping the port: every connection is refused."""
        self._shut_down()
        self._held = self._held or _bound(self.port)

    def stop(self) -> None:
        """Stop listening and let the port go."""
        self._shut_down()
        if self._held is not None:
            self._held.close()
            self._held = None

    def _shut_down(self) -> None:
        if self._server is None or self._serving is None:
            return
        self._server.should_exit = True
        self._serving.join()
        self._server = self._serving = None

    async def _post(self, request: Request) -> Response:
        if self._unavailable:
            self.unavailable_answers += 1
            return Response(b"down for the drill", status_code=503)
        events = orjson.loads(await request.body())
        self.received.extend(str(event["event_id"]) for event in events)
        return Response(b"{}", media_type="application/json")


def _bound(port: int) -> socket.socket:
    bound = socket.socket()
    # The port is bound again right after the server's own socket closed.
    bound.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    bound.bind(("127.0.0.1", port))
    return bound
