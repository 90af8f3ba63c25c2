import asyncio
import socket
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
import uvloop

from bench.pipeline_load import (
    CollectorConnection,
    MalformedResponseError,
    ResponseHead,
    TrackerLoad,
    chunked_body_end,
    encode_request,
    parse_head,
    response_end,
)
from bench.pipeline_mix import MAX_BATCH, TrackerMix, TrackerRequest

USER_AGENT = (
    b"User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    b"(KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36\r\n"
)


def test_the_prepared_load_offers_the_rate_for_the_time() -> None:
    load = TrackerLoad("http://collector", "http://search", TrackerMix(seed=3), 500, 8)
    load.prepare(seconds=4)
    dues = [due for due, _, _ in load.planned]
    events = sum(request.events for _, request, _ in load.planned)
    assert dues == sorted(dues) and dues[0] == 0 and dues[-1] < 4
    # The last request may carry up to a whole batch past the planned time.
    assert 4 * 500 <= events < 4 * 500 + MAX_BATCH


def test_the_prepared_load_holds_each_request_encoded_for_the_collector() -> None:
    load = TrackerLoad("http://127.0.0.1:18300", "http://search", TrackerMix(seed=3), 500, 8)
    load.prepare(seconds=1)
    for _, request, request_bytes in load.planned:
        assert request_bytes == encode_request(request, "127.0.0.1:18300")


@pytest.mark.parametrize(
    ("request_", "encoded"),
    [
        (
            TrackerRequest("GET", "/i", "e=pv&eid=1", None, 1, 0),
            b"GET /i?e=pv&eid=1 HTTP/1.1\r\nHost: collector:80\r\n" + USER_AGENT + b"\r\n",
        ),
        (
            TrackerRequest("POST", "/com.snowplowanalytics.snowplow/tp2", "", b'{"a":1}', 1, 0),
            b"POST /com.snowplowanalytics.snowplow/tp2 HTTP/1.1\r\nHost: collector:80\r\n"
            + USER_AGENT
            + b"Content-Type: application/json\r\nContent-Length: 7\r\n\r\n"
            b'{"a":1}',
        ),
    ],
)
def test_a_request_is_encoded_with_its_host_and_its_body_type_and_length(
    request_: TrackerRequest, encoded: bytes
) -> None:
    assert encode_request(request_, "collector:80") == encoded


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2", ResponseHead("200", False, 2, False)),
        (
            b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0",
            ResponseHead("503", False, 0, False),
        ),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked", ResponseHead("200", True, None, False)),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close",
            ResponseHead("200", False, 2, True),
        ),
        (
            b"HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Close\r\nContent-Length: 0",
            ResponseHead("200", False, 0, True),
        ),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 2", ResponseHead("200", False, 2, True)),
        (
            b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive",
            ResponseHead("200", False, 2, False),
        ),
        # No declared length: the body ends when the connection does.
        (b"HTTP/1.1 200 OK\r\nServer: x", ResponseHead("200", False, None, True)),
        (b"HTTP/1.1 204 No Content", ResponseHead("204", False, 0, False)),
        (
            b"HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0",
            ResponseHead("302", False, 0, False),
        ),
    ],
)
def test_an_answers_head_gives_its_status_framing_and_whether_the_connection_closes(
    head: bytes, expected: ResponseHead
) -> None:
    assert parse_head(head) == expected


@pytest.mark.parametrize(
    "head",
    [
        b"SSH-2.0-OpenSSH_9.2",
        b"HTTP/2 200",
        b"HTTP/1.1 2xx OK",
        b"HTTP/1.1 200 OK\r\nno colon here",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1",
    ],
)
def test_a_head_that_is_not_http_1_is_refused(head: bytes) -> None:
    with pytest.raises(MalformedResponseError):
        parse_head(head)


@pytest.mark.parametrize(
    ("body", "rest"),
    [
        (b"0\r\n\r\n", b""),
        (b"2\r\nok\r\n0\r\n\r\n", b""),
        (b"2;name=value\r\nok\r\nA\r\n0123456789\r\n0\r\n\r\n", b""),
        (b"2\r\nok\r\n0\r\nTrailer: x\r\n\r\n", b""),
        (b"2\r\nok\r\n0\r\n\r\n", b"HTTP/1.1 200 OK"),
    ],
)
def test_a_chunked_body_ends_after_its_last_chunk_and_trailers(body: bytes, rest: bytes) -> None:
    assert chunked_body_end(b"head" + body + rest, 4) == 4 + len(body)


@pytest.mark.parametrize(
    "part",
    [b"", b"2\r\no", b"2\r\nok\r\n", b"2\r\nok\r\n0\r\n", b"2\r\nok\r\n0\r\nTrailer: x\r\n"],
)
def test_a_chunked_body_is_not_over_until_its_last_chunk_and_trailers_arrive(part: bytes) -> None:
    assert chunked_body_end(b"head" + part, 4) is None


@pytest.mark.parametrize("body", [b"x\r\nok\r\n0\r\n\r\n", b"\r\n", b"2\r\nokay\r\n0\r\n\r\n"])
def test_a_chunked_body_with_a_wrong_size_is_refused(body: bytes) -> None:
    with pytest.raises(MalformedResponseError):
        chunked_body_end(body, 0)


OK_HEAD = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"
CHUNKED_ANSWER = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
UNTIL_CLOSE_HEAD = b"HTTP/1.1 200 OK\r\n\r\n"


@pytest.mark.parametrize(
    ("received", "closed", "end"),
    [
        (OK_HEAD + b"ok", False, len(OK_HEAD) + 2),
        (OK_HEAD + b"okHTTP/1.1", False, len(OK_HEAD) + 2),
        (OK_HEAD + b"o", False, None),
        (OK_HEAD[:-2], False, None),
        (b"", True, None),
        (CHUNKED_ANSWER, False, len(CHUNKED_ANSWER)),
        (CHUNKED_ANSWER[:-1], False, None),
        (UNTIL_CLOSE_HEAD + b"ok", False, None),
        (UNTIL_CLOSE_HEAD + b"ok", True, len(UNTIL_CLOSE_HEAD) + 2),
    ],
)
def test_an_answer_ends_where_its_framing_says(
    received: bytes, closed: bool, end: int | None
) -> None:
    answered = response_end(received, closed=closed)
    assert (None if answered is None else answered[1]) == end


async def _answer_like_a_collector(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """Answers by path: /ok and /busy keep the connection, /close and /eof close it (with and
    without saying so), /chunked answers in chunks, /cut stops mid-answer and /silent never
    answers."""
    answers = {
        b"/ok": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        b"/busy": b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy",
        b"/close": b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
        b"/eof": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        b"/chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"2\r\nok\r\n3\r\n!!!\r\n0\r\n\r\n",
        b"/cut": b"HTTP/1.1 200 OK\r\nContent-Len",
        b"/silent": b"",
    }
    while head := await reader.readuntil(b"\r\n\r\n"):
        path = head.split(b" ")[1].partition(b"?")[0]
        length = next(
            (
                int(line.partition(b":")[2])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            0,
        )
        await reader.readexactly(length)
        writer.write(answers[path])
        if path in (b"/close", b"/eof", b"/cut"):
            writer.close()
            return


# Long enough for any answer of the local server, short enough for the test.
EXCHANGE_TIMEOUT_S = 1.0
# What the client sends in turn on one connection, and what it must make of the answers:
# (requests' paths and bodies, pause between them, statuses, connections the server accepted).
EXCHANGES: dict[str, tuple[list[tuple[str, bytes | None]], float, list[str], int]] = {
    "keep-alive": (
        [("/ok", None), ("/busy", None), ("/ok", b'{"a":1}')],
        0,
        ["200", "503", "200"],
        1,
    ),
    "closed by the server": (
        [("/close", None), ("/close", b"{}"), ("/ok", None)],
        0,
        ["200"] * 3,
        3,
    ),
    # The client sees the connection end while it is idle, and opens another.
    "ended by the server": ([("/eof", None), ("/eof", None)], 0.1, ["200", "200"], 2),
    "chunked": ([("/chunked", None), ("/ok", None)], 0, ["200", "200"], 1),
    "cut": ([("/cut", None), ("/ok", None)], 0, ["IncompleteReadError", "200"], 2),
    "silent": ([("/silent", None), ("/ok", None)], 0, ["TimeoutError", "200"], 2),
}


async def _exchange_with_a_local_server() -> dict[str, tuple[list[str], int]]:
    """What the client made of each of EXCHANGES, and of a port nobody listens on."""
    accepted = 0

    async def count_and_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        try:
            await _answer_like_a_collector(reader, writer)
        except asyncio.IncompleteReadError:
            writer.close()

    server = await asyncio.start_server(count_and_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    results = {}
    for name, (requests, pause_s, _, _) in EXCHANGES.items():
        accepted, statuses = 0, []
        connection = CollectorConnection("127.0.0.1", port, timeout_s=EXCHANGE_TIMEOUT_S)
        for path, body in requests:
            request = TrackerRequest("GET" if body is None else "POST", path, "e=pv", body, 1, 0)
            statuses.append(await connection.exchange(encode_request(request, "127.0.0.1")))
            await asyncio.sleep(pause_s)
        connection.close()
        results[name] = (statuses, accepted)
    server.close()
    await server.wait_closed()
    with socket.socket() as closed_port:
        closed_port.bind(("127.0.0.1", 0))
        refused = CollectorConnection("127.0.0.1", closed_port.getsockname()[1])
    results["refused"] = ([await refused.exchange(b"GET / HTTP/1.1\r\n\r\n")], 0)
    return results


@pytest.mark.parametrize("run", [asyncio.run, uvloop.run], ids=["asyncio", "uvloop"])
def test_the_client_keeps_its_connection_opens_another_when_closed_and_names_failures(
    run: Callable[[Coroutine[Any, Any, dict[str, tuple[list[str], int]]]], Any],
) -> None:
    expected = {name: (statuses, opened) for name, (_, _, statuses, opened) in EXCHANGES.items()}
    assert run(_exchange_with_a_local_server()) == {
        **expected,
        "refused": (["ConnectionRefusedError"], 0),
    }
