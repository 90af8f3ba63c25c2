"""The collector under arbitrary requests: never a 5xx, never an exception out of the app, and
every request it accepts stored as what it was (split by event when too large for one record, a
size_violation bad row for what cannot fit)."""

from __future__ import annotations

import asyncio
import base64
import gzip
import re
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.formats.collector_payload import CollectorPayload, decode
from libs.pipes import MemoryPipe
from services.collector.app import Endpoint, build_app, endpoint_of
from services.collector.config import CollectorConfig
from tests.fuzz.bad_rows import bad_row_type, valid_bad_row
from tests.fuzz.budget import FUZZ

pytestmark = pytest.mark.fuzz

TP2 = "/com.snowplowanalytics.snowplow/tp2"
PAYLOAD_DATA = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4"
# Small limits, so that splitting, per-event violations and refused bodies are all reached.
SINK_MAX_BYTES = 3 * 1024
MAX_BODY_BYTES = 6 * 1024
TRACKING_METHODS = frozenset({"GET", "HEAD", "POST"})
# What an HTTP/1.1 server (h11, under uvicorn) lets into a header value; anything else, CR or LF
# above all, makes it fail the response with a 500.
HEADER_VALUE = re.compile(rb"[\t\x20-\x7e\x80-\xff]*")

KNOWN_PATHS = [
    "/i",
    "/ice.png",
    TP2,
    "/com.snowplowanalytics.iglu/v1",
    "/v1/telemetry",
    "/com.acme/v1",
    "/r/tp2",
    "/health",
    "/sink-health",
    "/robots.txt",
    "/metrics",
    "/",
    "/a/b/c",
]
HEADER_NAMES = [
    "content-type",
    "content-length",
    "cookie",
    "origin",
    "host",
    "user-agent",
    "referer",
    "sp-anonymous",
    "x-forwarded-for",
    "x-real-ip",
]

# Text as a server hands it over: any character but lone surrogates.
texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=60)
# Tracking paths and methods are drawn most often: that is where requests are stored.
paths = st.one_of(
    st.sampled_from(["/i", TP2, "/com.acme/v1", "/r/tp2"]),
    st.sampled_from(KNOWN_PATHS),
    texts.map(lambda text: "/" + text),
)
tracker_values = st.one_of(texts, st.sampled_from(["pv", "ue", "web", "https://a.example/x"]))
tracker_events = st.dictionaries(
    st.sampled_from(["e", "p", "tv", "url", "aid", "eid", "ue_pr", "co", "nuid", "page"]),
    st.one_of(tracker_values, st.integers(1, 2500).map(lambda size: "x" * size)),
    max_size=6,
)


@st.composite
def query_strings(draw: st.DrawFn) -> bytes:
    parameters = draw(st.lists(st.tuples(texts, tracker_values), max_size=5))
    encoded = "&".join(f"{name}={value}" for name, value in parameters).encode()
    kind = draw(st.sampled_from(["parameters", "bytes", "huge", "nuid", "redirect"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "huge":
        return encoded + b"&page=" + b"y" * draw(st.integers(1, 4 * SINK_MAX_BYTES))
    if kind == "nuid":
        return b"nuid=" + draw(st.binary(max_size=40)) + b"&" + encoded
    if kind == "redirect":
        target = draw(st.sampled_from([b"https://a.example/", b"%2F", b"", b"http://"]))
        return b"u=" + target + draw(st.sampled_from([b"x", b"%0D%0Ax", b"%E2%82%AC", b"a b"]))
    return encoded


def batches(schema: str) -> st.SearchStrategy[bytes]:
    """Tracker POST bodies of `schema` with from none to a few events, small or oversized."""
    return st.lists(tracker_events, max_size=8).map(
        lambda events: orjson.dumps({"schema": schema, "data": events})
    )


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["batch", "truncated", "gzip", "base64", "bytes", "huge"]))
    schema = draw(st.one_of(st.just(PAYLOAD_DATA), texts, st.just("s" * 4000)))
    batch = draw(batches(schema))
    if kind == "batch":
        return batch
    if kind == "truncated":
        return batch[: draw(st.integers(0, len(batch)))]
    if kind == "gzip":
        compressed = gzip.compress(batch)
        return compressed[: draw(st.integers(0, len(compressed)))]
    if kind == "base64":
        return base64.b64encode(draw(st.binary(max_size=300))) + draw(st.binary(max_size=3))
    if kind == "huge":
        return b"z" * draw(st.integers(MAX_BODY_BYTES - 10, MAX_BODY_BYTES * 2))
    return draw(st.binary(max_size=500))


def as_header_value(value: bytes) -> bytes:
    """`value` as an HTTP/1.1 server hands it over: no control characters, no surrounding space
    (h11 refuses requests with others)."""
    return bytes(byte for byte in value if HEADER_VALUE.fullmatch(bytes([byte]))).strip(b" \t")


header_values = st.one_of(
    st.binary(max_size=80),
    st.sampled_from(
        [
            b"application/json",
            b"application/json; charset=UTF-8",
            b"application/x-www-form-urlencoded",
            b"text/plain\xff\xfe",
            b"application/json" + b";x=y" * 500,
            b"https://shop.example.com",
            b"sp=abc",
            b"99999999999999999999",
            b"\xb2",
            b"-1",
        ]
    ),
).map(as_header_value)
header_names = st.one_of(
    st.sampled_from(HEADER_NAMES),
    st.text("abcdefghijklmnopqrstuvwxyz0123456789-_.!#$%&'*+^`|~", min_size=1, max_size=20),
)
headers = st.lists(st.tuples(header_names.map(str.encode), header_values), max_size=8)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query_string: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes
    # Where the body is cut into ASGI messages.
    cuts: list[int]


@st.composite
def requests(draw: st.DrawFn) -> Request:
    method = draw(
        st.one_of(
            st.sampled_from(["GET", "POST"]),
            st.sampled_from(["GET", "HEAD", "POST", "OPTIONS", "PUT", "DELETE"]),
            st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=8),
        )
    )
    body = draw(bodies()) if method == "POST" or draw(st.booleans()) else b""
    cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=4)))
    return Request(method, draw(paths), draw(query_strings()), draw(headers), body, cuts)


@st.composite
def batch_requests(draw: st.DrawFn) -> Request:
    """POSTs of tracker batches, the requests that are split or become size violations."""
    schema = draw(st.sampled_from([PAYLOAD_DATA, "s" * 2500, ""]))
    body = draw(batches(schema))
    cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=2)))
    path = draw(st.sampled_from([TP2, "/com.acme/v1"]))
    return Request("POST", path, draw(query_strings()), draw(headers), body, cuts)


@st.composite
def redirect_requests(draw: st.DrawFn) -> Request:
    """Clicks through `/r/tp2` to any target, allowed or not."""
    scheme = draw(st.sampled_from(["https://", "http://", "javascript:", ""]))
    host = draw(st.sampled_from(["a.example", "shop.example.com", "", "[::1]"]))
    rest = draw(st.text(st.characters(exclude_categories=["Cs"]), max_size=30))
    query = urlencode({"u": scheme + host + rest}).encode() + draw(st.sampled_from([b"", b"&e=pv"]))
    return Request("GET", "/r/tp2", query, draw(headers), b"", [])


configs = st.builds(
    CollectorConfig,
    redirect_enabled=st.booleans(),
    trust_proxy_headers=st.booleans(),
    partition_key=st.sampled_from(["random", "ip"]),
    cookie_enabled=st.booleans(),
    cookie_domains=st.lists(st.sampled_from(["example.com", "shop.example.com"]), max_size=2),
    max_body_bytes=st.just(MAX_BODY_BYTES),
)


@dataclass
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]


async def send_request(config: CollectorConfig, pipe: MemoryPipe, request: Request) -> Answer:
    app = build_app(config, pipe)
    starts = [0, *request.cuts]
    ends = [*request.cuts, len(request.body)]
    messages = [
        {"type": "http.request", "body": request.body[start:end], "more_body": True}
        for start, end in zip(starts, ends, strict=True)
    ]
    messages[-1]["more_body"] = False
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": "http",
        "path": request.path,
        "raw_path": request.path.encode(),
        "query_string": request.query_string,
        "headers": request.headers,
        "client": ("203.0.113.5", 50000),
        "server": ("127.0.0.1", 8000),
    }
    await app(scope, receive, send)
    start, body = sent
    assert start["type"] == "http.response.start"
    assert body["type"] == "http.response.body"
    return Answer(start["status"], start["headers"])


def is_tracking(request: Request) -> bool:
    """Whether the collector must store `request` (or refuse it): a pixel or `/vendor/version`
    GET, or a `/vendor/version` POST. Redirects are left out: they depend on the `u` parameter."""
    endpoint = endpoint_of(request.path)
    if endpoint is Endpoint.PIXEL:
        return request.method in ("GET", "HEAD")
    return endpoint is Endpoint.VENDOR and request.method in TRACKING_METHODS


def batch_events(body: bytes | None) -> list[Any] | None:
    """The events of a tracker POST batch, or None if `body` is not one."""
    try:
        document = orjson.loads(body or b"")
    except orjson.JSONDecodeError:
        return None
    if not isinstance(document, dict) or not isinstance(document.get("schema"), str):
        return None
    events = document.get("data")
    return list(events) if isinstance(events, list) else None


def assert_accounted(request: Request, records: list[CollectorPayload], rows: list[Any]) -> None:
    """An accepted tracking request is stored whole, split by event, or as size violations:
    never nothing, never an event twice."""
    assert all(bad_row_type(row) == "size_violation" for row in rows)
    assert records or rows, "an accepted request was stored nowhere"
    if request.method != "POST":
        assert len(records) + len(rows) == 1
        for payload in records:
            assert payload.body is None
            assert payload.querystring == (request.query_string.decode(errors="replace") or None)
        return
    if len(records) == 1 and not rows and records[0].body == request.body:
        return
    events = batch_events(request.body)
    if not events:
        assert (records, len(rows)) == ([], 1), "a body without events to split by is one violation"
        return
    stored = [event for payload in records for event in batch_events(payload.body) or []]
    assert len(stored) + len(rows) == len(events)
    assert all(event in events for event in stored)


def assert_answered_and_accounted_for(config: CollectorConfig, request: Request) -> None:
    pipe = MemoryPipe(max_bytes=SINK_MAX_BYTES)
    answer = asyncio.run(send_request(config, pipe, request))
    assert answer.status < 500
    assert all(HEADER_VALUE.fullmatch(value) for _, value in answer.headers), answer.headers
    records = [decode(message.value) for message in pipe.written if message.topic == "raw"]
    rows = [valid_bad_row(message.value) for message in pipe.written if message.topic == "bad"]
    assert all(record.path == request.path for record in records)
    if answer.status == 413:
        assert (records, [bad_row_type(row) for row in rows]) == ([], ["size_violation"])
    elif answer.status >= 400 or request.method not in TRACKING_METHODS:
        assert (records, rows) == ([], [])
    elif is_tracking(request) or answer.status == 302:
        assert_accounted(request, records, rows)
    else:
        assert (records, rows) == ([], [])


@FUZZ
@given(config=configs, request=requests())
def test_any_request_is_answered_and_accounted_for(
    config: CollectorConfig, request: Request
) -> None:
    assert_answered_and_accounted_for(config, request)


@FUZZ
@given(config=configs, request=batch_requests())
def test_any_tracker_batch_is_stored_split_or_a_size_violation(
    config: CollectorConfig, request: Request
) -> None:
    assert_answered_and_accounted_for(config, request)


@FUZZ
@given(config=configs, request=redirect_requests())
def test_any_redirect_is_answered_and_stored(config: CollectorConfig, request: Request) -> None:
    assert_answered_and_accounted_for(config.model_copy(update={"redirect_enabled": True}), request)


@FUZZ
@given(request=requests())
def test_a_failing_sink_is_a_503_and_never_an_accepted_request(request: Request) -> None:
    pipe = MemoryPipe(max_bytes=SINK_MAX_BYTES, healthy=False)
    answer = asyncio.run(
        send_request(CollectorConfig(max_body_bytes=MAX_BODY_BYTES), pipe, request)
    )
    assert answer.status != 500
    assert pipe.written == []
    if is_tracking(request):
        assert answer.status in (413, 503)
