"""The collector's HTTP behaviour, in-process over the in-memory pipe."""

from __future__ import annotations

from collections.abc import AsyncIterator, MutableMapping
from typing import Any

import httpx
import orjson
import pytest

from libs.formats.collector_payload import decode
from libs.pipes import MemoryPipe, Message
from services.collector.app import PIXEL, build_app, endpoint_of, redirect_target
from services.collector.config import CollectorConfig

TP2 = "/com.snowplowanalytics.snowplow/tp2"
BATCH = {
    "schema": "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4",
    "data": [{"e": "pv", "p": "web", "tv": "js-3.0.0"}],
}


@pytest.fixture
def pipe() -> MemoryPipe:
    return MemoryPipe(max_bytes=64 * 1024)


def client_for(pipe: MemoryPipe, **settings: Any) -> httpx.AsyncClient:
    app = build_app(CollectorConfig(**settings), pipe)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://c.test")


@pytest.fixture
async def client(pipe: MemoryPipe) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(pipe) as http:
        yield http


def raw_records(pipe: MemoryPipe) -> list[Message]:
    return [message for message in pipe.written if message.topic == "raw"]


def bad_rows(pipe: MemoryPipe) -> list[dict[str, Any]]:
    return [orjson.loads(m.value) for m in pipe.written if m.topic == "bad"]


@pytest.mark.parametrize(
    ("path", "endpoint"),
    [
        ("/i", "pixel"),
        ("/ice.png", "pixel"),
        (TP2, "vendor"),
        ("/com.snowplowanalytics.iglu/v1", "vendor"),
        ("/v1/telemetry", "vendor"),
        ("/r/tp2", "redirect"),
        ("/health", "health"),
        ("/sink-health", "sink-health"),
        ("/robots.txt", "robots"),
        ("/", "unknown"),
        ("/a", "unknown"),
        ("/a/b/c", "unknown"),
        ("/a//", "unknown"),
    ],
)
def test_endpoints_by_path(path: str, endpoint: str) -> None:
    assert endpoint_of(path).value == endpoint


@pytest.mark.parametrize(
    ("query", "allowed", "expected"),
    [
        ("u=https%3A%2F%2Fshop.acme.com%2Fx", [], "https://shop.acme.com/x"),
        ("u=https%3A%2F%2Fshop.acme.com%2Fx", ["acme.com"], "https://shop.acme.com/x"),
        ("u=https%3A%2F%2Fevil.com%2F", ["acme.com"], None),
        ("u=https%3A%2F%2Fevilacme.com%2F", ["acme.com"], None),
        ("u=javascript%3Aalert(1)", [], None),
        ("u=%2Frelative", [], None),
        ("x=1", [], None),
        # Found by tests/fuzz: urlsplit raised on it (a 500).
        ("u=https%3A%2F%2F%5B%3A%3A1%2Fx", [], None),
        ("", [], None),
    ],
)
def test_redirect_targets(query: str, allowed: list[str], expected: str | None) -> None:
    assert redirect_target(query, allowed) == expected


@pytest.mark.parametrize("path", ["/i", "/ice.png", "/com.acme/v1"])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_pixel_requests_are_stored_and_answered_with_the_gif(
    client: httpx.AsyncClient, pipe: MemoryPipe, path: str, method: str
) -> None:
    response = await client.request(method, path, params={"e": "pv", "aid": "shop"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/gif"
    assert response.headers["cache-control"] == "no-cache, no-store, must-revalidate"
    if method == "GET":
        assert response.content == PIXEL and len(PIXEL) == 43
    (record,) = raw_records(pipe)
    payload = decode(record.value)
    assert (payload.path, payload.querystring, payload.body) == (path, "e=pv&aid=shop", None)


async def test_post_to_a_vendor_path_is_stored_whole(
    client: httpx.AsyncClient, pipe: MemoryPipe
) -> None:
    body = orjson.dumps(BATCH)
    response = await client.post(
        TP2,
        content=body,
        headers={
            "content-type": "application/json; charset=UTF-8",
            "user-agent": "tracker/1",
            "referer": "https://shop.example.com/",
        },
    )
    assert (response.status_code, response.text) == (200, "ok")
    (record,) = raw_records(pipe)
    payload = decode(record.value)
    assert payload.body == body
    assert payload.path == TP2
    assert payload.content_type == "application/json; charset=UTF-8"
    assert payload.user_agent == "tracker/1"
    assert payload.referer_uri == "https://shop.example.com/"
    assert payload.hostname == "c.test"
    assert payload.ip_address == "127.0.0.1"
    assert payload.collector.startswith("furrow-")
    assert record.key is None


@pytest.mark.parametrize(
    "body",
    [b"\xff\xfe\x00binary", b"", b"{not json", b"\x1f\x8b\x08garbage-gzip"],
)
async def test_any_body_is_stored_as_received_for_the_enricher_to_judge(
    client: httpx.AsyncClient, pipe: MemoryPipe, body: bytes
) -> None:
    response = await client.post("/com.acme/v1", content=body, headers={"content-type": "x/y"})
    assert response.status_code == 200
    (record,) = raw_records(pipe)
    assert decode(record.value).body == body


@pytest.mark.parametrize(
    "query", ["e=pv&url=%ZZ", "e=pv&&&==", "%", "e=%E9t%E9", "a=" + "%FF" * 10]
)
async def test_malformed_query_strings_are_stored_not_refused(
    client: httpx.AsyncClient, pipe: MemoryPipe, query: str
) -> None:
    response = await client.get(f"/i?{query}")
    assert response.status_code == 200
    (record,) = raw_records(pipe)
    assert decode(record.value).querystring == query


async def test_unknown_paths_and_methods_are_refused(client: httpx.AsyncClient) -> None:
    assert (await client.get("/nowhere/at/all")).status_code == 404
    assert (await client.post("/i")).status_code == 405
    assert (await client.delete(TP2)).status_code == 405
    assert (await client.post("/health")).status_code == 405


async def test_service_endpoints(client: httpx.AsyncClient, pipe: MemoryPipe) -> None:
    assert (await client.get("/health")).text == "ok"
    assert (await client.get("/robots.txt")).text == "User-agent: *\nDisallow: /\n"
    metrics = await client.get("/metrics")
    assert "furrow_collector_requests_total" in metrics.text
    assert pipe.written == []


async def test_sink_health_follows_the_writes() -> None:
    pipe = MemoryPipe(healthy=False)
    async with client_for(pipe) as client:
        assert (await client.get("/sink-health")).status_code == 503
        pipe.healthy = True
        assert (await client.get("/sink-health")).status_code == 200


async def test_tracking_answers_503_when_the_sink_cannot_take_the_events() -> None:
    pipe = MemoryPipe(healthy=False)
    async with client_for(pipe) as client:
        response = await client.post(TP2, content=orjson.dumps(BATCH))
        assert response.status_code == 503
        assert (await client.get("/i?e=pv")).status_code == 503
    assert pipe.written == []


async def test_fire_and_forget_answers_at_once_even_when_the_sink_fails() -> None:
    pipe = MemoryPipe(healthy=False)
    async with client_for(pipe, durability="fire_and_forget") as client:
        assert (await client.get("/i?e=pv")).status_code == 200


async def test_cors_preflight_on_any_path(client: httpx.AsyncClient) -> None:
    response = await client.options("/anything/at/all", headers={"origin": "https://shop.acme.com"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://shop.acme.com"
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-allow-headers"] == "Content-Type, SP-Anonymous"
    assert response.headers["access-control-max-age"] == "3600"


@pytest.mark.parametrize(
    ("origin", "expected"), [("https://a.acme.com", "https://a.acme.com"), (None, "*")]
)
async def test_tracking_responses_carry_cors_headers(
    client: httpx.AsyncClient, origin: str | None, expected: str
) -> None:
    headers = {"origin": origin} if origin else {}
    response = await client.post(TP2, content=orjson.dumps(BATCH), headers=headers)
    assert response.headers["access-control-allow-origin"] == expected
    assert response.headers["access-control-allow-credentials"] == "true"


async def test_a_new_visitor_gets_the_network_user_id_cookie(pipe: MemoryPipe) -> None:
    async with client_for(pipe, cookie_domains=["acme.com"]) as client:
        response = await client.get("/i?e=pv", headers={"origin": "https://www.acme.com"})
    cookie = response.headers["set-cookie"]
    user_id = decode(raw_records(pipe)[0].value).network_user_id
    assert cookie.startswith(f"sp={user_id}; ")
    for attribute in ("Max-Age=31536000", "Domain=acme.com", "Path=/", "Secure", "HttpOnly"):
        assert attribute in cookie
    assert cookie.endswith("SameSite=None")


async def test_a_returning_visitor_keeps_the_cookie_id(
    client: httpx.AsyncClient, pipe: MemoryPipe
) -> None:
    response = await client.get("/i?e=pv", headers={"cookie": "sp=visitor-7"})
    assert decode(raw_records(pipe)[0].value).network_user_id == "visitor-7"
    assert response.headers["set-cookie"].startswith("sp=visitor-7;")


async def test_the_nuid_parameter_wins_over_the_cookie(
    client: httpx.AsyncClient, pipe: MemoryPipe
) -> None:
    await client.get("/i?e=pv&nuid=from-app", headers={"cookie": "sp=visitor-7"})
    assert decode(raw_records(pipe)[0].value).network_user_id == "from-app"


async def test_no_cookie_when_disabled(pipe: MemoryPipe) -> None:
    async with client_for(pipe, cookie_enabled=False) as client:
        response = await client.get("/i?e=pv")
    assert "set-cookie" not in response.headers
    assert raw_records(pipe)


async def test_sp_anonymous_hides_the_visitor(client: httpx.AsyncClient, pipe: MemoryPipe) -> None:
    response = await client.post(
        TP2,
        content=orjson.dumps(BATCH),
        headers={
            "sp-anonymous": "*",
            "cookie": "sp=visitor-7",
            "x-forwarded-for": "198.51.100.1",
            "x-real-ip": "198.51.100.1",
        },
    )
    assert response.status_code == 200
    assert "set-cookie" not in response.headers
    payload = decode(raw_records(pipe)[0].value)
    assert payload.network_user_id == "00000000-0000-0000-0000-000000000000"
    assert payload.ip_address == "unknown"
    assert not any(
        header.split(":")[0].lower() in ("cookie", "x-forwarded-for", "x-real-ip")
        for header in payload.headers
    )


async def test_do_not_track_cookie_is_answered_and_nothing_is_stored(pipe: MemoryPipe) -> None:
    async with client_for(
        pipe, do_not_track_cookie_name="dnt", do_not_track_cookie_value="1"
    ) as client:
        pixel = await client.get("/i?e=pv", headers={"cookie": "dnt=1"})
        post = await client.post(TP2, content=orjson.dumps(BATCH), headers={"cookie": "dnt=1"})
        tracked = await client.get("/i?e=pv", headers={"cookie": "dnt=0"})
    assert (pixel.status_code, pixel.content) == (200, PIXEL)
    assert (post.status_code, post.text) == (200, "ok")
    assert "set-cookie" not in pixel.headers
    assert tracked.status_code == 200
    assert len(raw_records(pipe)) == 1


async def test_client_ip_from_proxy_headers_only_when_trusted(pipe: MemoryPipe) -> None:
    headers = {"x-forwarded-for": "198.51.100.1, 10.0.0.1"}
    async with client_for(pipe) as client:
        await client.get("/i?e=pv", headers=headers)
    async with client_for(pipe, trust_proxy_headers=True, partition_key="ip") as client:
        await client.get("/i?e=pv", headers=headers)
    untrusted, trusted = raw_records(pipe)
    assert decode(untrusted.value).ip_address == "127.0.0.1"
    assert decode(trusted.value).ip_address == "198.51.100.1"
    assert trusted.key == b"198.51.100.1"


async def test_redirects_are_off_by_default(client: httpx.AsyncClient, pipe: MemoryPipe) -> None:
    response = await client.get("/r/tp2?u=https%3A%2F%2Facme.com%2F")
    assert response.status_code == 404
    assert pipe.written == []


async def test_an_allowed_redirect_is_stored_and_followed(pipe: MemoryPipe) -> None:
    async with client_for(pipe, redirect_enabled=True, redirect_domains=["acme.com"]) as client:
        allowed = await client.get("/r/tp2?u=https%3A%2F%2Fshop.acme.com%2Fsale&e=se")
        refused = await client.get("/r/tp2?u=https%3A%2F%2Fevil.example%2F")
        missing = await client.get("/r/tp2")
    assert (allowed.status_code, allowed.headers["location"]) == (302, "https://shop.acme.com/sale")
    assert "set-cookie" in allowed.headers
    assert refused.status_code == missing.status_code == 400
    (record,) = raw_records(pipe)
    assert decode(record.value).path == "/r/tp2"


async def test_custom_paths_are_stored_as_their_target(pipe: MemoryPipe) -> None:
    async with client_for(pipe, paths={"/com.acme/track": TP2, "/com.acme/px": "/i"}) as client:
        post = await client.post("/com.acme/track", content=orjson.dumps(BATCH))
        pixel = await client.get("/com.acme/px?e=pv")
    assert post.text == "ok"
    assert pixel.content == PIXEL
    assert [decode(r.value).path for r in raw_records(pipe)] == [TP2, "/i"]


async def test_a_batch_too_large_for_one_record_is_split(pipe: MemoryPipe) -> None:
    events = [{"e": "pv", "eid": str(i), "url": "https://x/" + "p" * 500} for i in range(400)]
    async with client_for(pipe) as client:
        response = await client.post(TP2, content=orjson.dumps({**BATCH, "data": events}))
    assert response.status_code == 200
    records = raw_records(pipe)
    assert len(records) > 1
    stored = [e for r in records for e in orjson.loads(decode(r.value).body or b"")["data"]]
    assert stored == events
    assert bad_rows(pipe) == []


async def test_a_body_over_the_hard_limit_gets_413_and_a_size_violation(pipe: MemoryPipe) -> None:
    async with client_for(pipe, max_body_bytes=10_000) as client:
        response = await client.post(TP2, content=b"x" * 10_001)
    assert response.status_code == 413
    assert raw_records(pipe) == []
    (row,) = bad_rows(pipe)
    assert row["schema"].endswith("/size_violation/jsonschema/1-0-0")
    assert row["data"]["failure"]["actualSizeBytes"] == 10_001
    assert row["data"]["failure"]["maximumAllowedSizeBytes"] == 10_000


async def test_a_streamed_body_over_the_limit_is_refused_without_reading_it_all(
    pipe: MemoryPipe,
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b"y" * 1000

    async with client_for(pipe, max_body_bytes=10_000) as client:
        response = await client.post(TP2, content=chunks())
    assert response.status_code == 413
    (row,) = bad_rows(pipe)
    assert 10_000 < row["data"]["failure"]["actualSizeBytes"] <= 11_000


async def test_a_nuid_that_is_no_cookie_value_is_stored_but_not_set_as_a_cookie(
    client: httpx.AsyncClient, pipe: MemoryPipe
) -> None:
    # Found by tests/fuzz: a non-latin-1 nuid made building the Set-Cookie header raise (a 500).
    response = await client.get("/i?e=pv&nuid=%E2%82%AC%0D%0Ax")
    assert response.status_code == 200
    assert "set-cookie" not in response.headers
    assert decode(raw_records(pipe)[0].value).network_user_id == "€\r\nx"


async def asgi_post(pipe: MemoryPipe, content_length: bytes) -> int:
    """The status of a POST with this Content-Length header, sent as a server would pass it."""
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    app = build_app(CollectorConfig(max_body_bytes=10_000), pipe)
    scope = {
        "type": "http",
        "method": "POST",
        "path": TP2,
        "query_string": b"",
        "headers": [(b"content-length", content_length)],
        "client": ("203.0.113.5", 50000),
    }
    await app(scope, receive, send)
    return statuses[0]


@pytest.mark.parametrize(
    ("content_length", "status", "recorded_size"),
    [
        # Found by tests/fuzz: both made the collector raise (a 500) instead of answering.
        (b"99999999999999999999", 413, 2**30),  # Snowplow's schema caps sizes at 1 GiB
        (b"\xb2", 200, None),
        (b"10001", 413, 10_001),
    ],
)
async def test_odd_content_lengths_are_answered(
    pipe: MemoryPipe, content_length: bytes, status: int, recorded_size: int | None
) -> None:
    assert await asgi_post(pipe, content_length) == status
    sizes = [row["data"]["failure"]["actualSizeBytes"] for row in bad_rows(pipe)]
    assert sizes == ([recorded_size] if recorded_size else [])


@pytest.mark.parametrize(
    ("target", "location"),
    [
        # Found by tests/fuzz: CR LF or a control character in the target made a Location header
        # no server may send (a 500 after the click was stored; or a split response).
        ("https://acme.com/\r\nSet-Cookie: x=1", "https://acme.com/%0D%0ASet-Cookie:%20x=1"),
        ("https://acme.com\x1f", "https://acme.com%1F"),
        ("https://acme.com/caf\u00e9?q=a b", "https://acme.com/caf%C3%A9?q=a%20b"),
        ("https://acme.com/x?a=1&b=%2F", "https://acme.com/x?a=1&b=%2F"),
    ],
)
async def test_a_redirect_location_is_a_valid_header(
    pipe: MemoryPipe, target: str, location: str
) -> None:
    async with client_for(pipe, redirect_enabled=True) as client:
        response = await client.get("/r/tp2", params={"u": target})
    assert (response.status_code, response.headers["location"]) == (302, location)
    assert len(raw_records(pipe)) == 1
