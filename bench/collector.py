"""Collector: GET /i req/s and POST tp2 events/s with Kafka acks=all, next to a bare Starlette
app on the same uvicorn stack measured in the same run (the floor), and the collector's RSS."""

from __future__ import annotations

from urllib.parse import urlencode

import orjson

from bench.load import PeakRss, run_wrk
from bench.report import Measurement
from bench.servers import BIN, scratch_topics, serving
from devstack import kafka
from devstack.process import free_ports

PART = "collector"
SECONDS = 15
CONNECTIONS = 64
EVENTS_PER_POST = 10
TP2 = "/com.snowplowanalytics.snowplow/tp2"
PAYLOAD_DATA = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4"


def page_view(index: int) -> dict[str, str]:
    """The parameters of a page view much as the JavaScript tracker sends them."""
    return {
        "e": "pv",
        "url": f"https://shop.example.com/products/{index}?utm_source=news&utm_medium=email",
        "page": "Product page",
        "refr": "https://www.google.com/",
        "tv": "js-3.24.0",
        "tna": "sp",
        "aid": "shop",
        "p": "web",
        "tz": "Europe/Paris",
        "lang": "fr-FR",
        "cs": "UTF-8",
        "res": "1920x1080",
        "cd": "24",
        "cookie": "1",
        "eid": f"5b7a3e2c-1d2f-4c3b-9a8e-{index:012d}",
        "dtm": "1795000000000",
        "stm": "1795000000100",
        "vp": "1536x730",
        "ds": "1536x4000",
        "vid": "3",
        "sid": "9d3b2b1a-6c7e-4f5a-8b9c-0d1e2f3a4b5c",
        "duid": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
        "cx": "eyJzY2hlbWEiOiJpZ2x1OmNvbS5zbm93cGxvd2FuYWx5dGljcy5zbm93cGxvdy9jb250ZXh0cy9q"
        "c29uc2NoZW1hLzEtMC0wIiwiZGF0YSI6W3sic2NoZW1hIjoiaWdsdTpjb20uc25vd3Bsb3dhbmFseXRp"
        "Y3Muc25vd3Bsb3cvd2ViX3BhZ2UvanNvbnNjaGVtYS8xLTAtMCIsImRhdGEiOnsiaWQiOiIxIn19XX0",
    }


def run() -> list[Measurement]:
    kafka.start()
    get_path = "/i?" + urlencode(page_view(0))
    batch = orjson.dumps(
        {"schema": PAYLOAD_DATA, "data": [page_view(i) for i in range(EVENTS_PER_POST)]}
    )
    floor_port, collector_port = free_ports(2)
    floor_url = f"http://127.0.0.1:{floor_port}"
    floor_command = [
        str(BIN / "uvicorn"),
        "bench.floor:app",
        f"--port={floor_port}",
        "--log-level=warning",
        "--no-access-log",
    ]
    with serving(floor_command, f"{floor_url}/health"):
        floor_get = run_wrk(floor_url + get_path, seconds=SECONDS, connections=CONNECTIONS)
        floor_post = run_wrk(floor_url + TP2, seconds=SECONDS, connections=CONNECTIONS, body=batch)

    url = f"http://127.0.0.1:{collector_port}"
    with (
        scratch_topics("raw", "bad") as topics,
        serving(
            [str(BIN / "furrow"), "collector"],
            f"{url}/health",
            {
                "FURROW_COLLECTOR_PORT": str(collector_port),
                "FURROW_KAFKA_BOOTSTRAP_SERVERS": kafka.address(),
                "FURROW_TOPICS_RAW": topics["raw"],
                "FURROW_TOPICS_BAD": topics["bad"],
                "FURROW_LOGGING_LEVEL": "WARNING",
            },
        ) as pid,
        PeakRss(pid) as rss,
    ):
        get = run_wrk(url + get_path, seconds=SECONDS, connections=CONNECTIONS)
        post = run_wrk(url + TP2, seconds=SECONDS, connections=CONNECTIONS, body=batch)

    errors = f"{get.errors + post.errors} non-2xx/socket errors"
    return [
        Measurement(PART, "floor GET (bare Starlette)", floor_get.requests_per_s, "req/s"),
        Measurement(PART, "floor POST (bare Starlette)", floor_post.requests_per_s, "req/s"),
        Measurement(PART, "GET /i", get.requests_per_s, "req/s", note=errors),
        Measurement(
            PART,
            "GET /i vs floor",
            get.requests_per_s / floor_get.requests_per_s,
            "x",
            ">= 0.6",
        ),
        Measurement(PART, "GET /i p50 latency", get.latency_ms["50%"], "ms"),
        Measurement(PART, "GET /i p99 latency", get.latency_ms["99%"], "ms"),
        Measurement(
            PART,
            f"POST tp2 ({EVENTS_PER_POST} events/request)",
            post.requests_per_s * EVENTS_PER_POST,
            "events/s",
            ">= 30000",
        ),
        Measurement(PART, "POST tp2 p50 latency", post.latency_ms["50%"], "ms"),
        Measurement(PART, "POST tp2 p99 latency", post.latency_ms["99%"], "ms"),
        Measurement(PART, "collector peak RSS under load", rss.peak_mb, "MB", "<= 150"),
    ]
