"""Enrichments: µs per event for all configurable enrichments together, and each on its own.

Pure CPU, no servers: `python -m bench.enrichments`. Events are a realistic mix (page views with
and without campaign parameters, self-describing events with an entity, 40 user agents, 5,000
client addresses, search/social/unknown referrers, ten request headers with cookies) run through
`config/enrichments/` with PII switched on. Caches are warm after the first pass, as they are in
a running enricher; the cold number parses a new user agent and looks up a new address for every
event, the worst case.
"""

from __future__ import annotations

import json
import random
import shutil
import tempfile
import time
from pathlib import Path

import orjson

from bench.report import Measurement
from libs.formats.collector_payload import CollectorPayload
from libs.formats.enriched import EnrichedEvent
from services.enrich.enrichments import load_enrichments
from services.enrich.model import Enrichment, RawEvent

PART = "enrichments"
CONFIG = Path(__file__).resolve().parent.parent / "config" / "enrichments"
EVENTS = 5_000
PASSES = 15
# The enricher's target is 15,000 events/s per process, 66 µs per event for everything.
TARGET_US = 15.0

_BROWSERS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{v}.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.{v} Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_{v} like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.{v} Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel {v}) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0",
]
_REFERRERS = [
    "",
    "https://www.google.com/",
    "https://www.bing.com/search?q=red+shoes&form=QBLH",
    "https://l.facebook.com/l.php?u=x",
    "https://shop.example.com/products/1",
    "https://blog.example.org/post/12",
]


def _events(count: int, *, distinct: bool, seed: int = 7) -> list[tuple[EnrichedEvent, RawEvent]]:
    rng = random.Random(seed)
    addresses = [
        f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        for _ in range(5_000)
    ]
    useragents = [b.format(v=v) for b in _BROWSERS for v in range(8, 16)]
    events = []
    for index in range(count):
        useragent = useragents[index % len(useragents)]
        address = addresses[rng.randrange(len(addresses))]
        if distinct:
            useragent += f" Build/{index}"
            address = f"{index % 200 + 2}.{index // 65536 % 256}.{index // 256 % 256}.{index % 256}"
        query = (
            "?utm_source=news&utm_medium=email&utm_campaign=spring&gclid=Cj0K"
            if index % 3 == 0
            else ""
        )
        url = f"https://shop.example.com/products/{index % 500}{query}"
        parameters = {
            "e": "pv" if index % 2 else "ue",
            "p": "web",
            "tv": "js-3.24.0",
            "aid": "shop",
            "eid": f"4d0c2f1e-2b2a-4c1e-9d8e-{index:012d}",
            "dtm": str(1_700_000_000_000 + index),
            "stm": str(1_700_000_000_100 + index),
            "url": url,
            "refr": _REFERRERS[index % len(_REFERRERS)],
            "uid": f"user-{index % 1000}@example.com",
            "duid": f"d-{index % 3000}",
            "res": "1920x1080",
            "lang": "en-GB",
        }
        event: EnrichedEvent = {
            "event": "page_view" if index % 2 else "unstruct",
            "platform": "web",
            "user_ipaddress": address,
            "useragent": useragent,
            "page_url": url,
            "page_referrer": parameters["refr"],
            "user_id": parameters["uid"],
            "domain_userid": parameters["duid"],
        }
        if not index % 2:
            event["unstruct_event"] = orjson.dumps(
                {
                    "schema": "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",
                    "data": {
                        "schema": "iglu:com.acme/signup/jsonschema/1-0-2",
                        "data": {"email": f"someone{index}@example.com", "plan": "pro"},
                    },
                }
            ).decode()
            event["contexts"] = orjson.dumps(
                {
                    "schema": "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1",
                    "data": [
                        {
                            "schema": "iglu:com.acme/user/jsonschema/1-0-0",
                            "data": {"phone": "+44 20 7946 0000"},
                        },
                        {
                            "schema": "iglu:com.acme/page/jsonschema/1-0-0",
                            "data": {"kind": "product"},
                        },
                    ],
                }
            ).decode()
        payload = CollectorPayload(
            ip_address=address,
            timestamp_ms=1_700_000_000_200 + index,
            collector="furrow-0.1.0",
            path="/com.snowplowanalytics.snowplow/tp2",
            user_agent=useragent,
            headers=(
                "Host: collector.example.com",
                f"User-Agent: {useragent}",
                "Accept: */*",
                "Accept-Language: en-GB,en;q=0.9",
                "Accept-Encoding: gzip, deflate, br",
                "Content-Type: application/json",
                "Origin: https://shop.example.com",
                "Referer: https://shop.example.com/",
                f"Cookie: _ga=GA1.2.{index}; sp=4d0c2f1e; _fbp=fb.1.{index}",
                f"X-Forwarded-For: {address}",
            ),
        )
        events.append((event, RawEvent(parameters, payload)))
    return events


def _with_pii(directory: Path) -> Path:
    config = Path(tempfile.mkdtemp(prefix="furrow-bench-enrichments-"))
    for path in directory.glob("*.json"):
        shutil.copy(path, config / path.name)
    pii_path = config / "pii_enrichment_config.json"
    document = json.loads(pii_path.read_text())
    document["data"]["enabled"] = True
    pii_path.write_text(json.dumps(document))
    return config


def _time(
    enrichments: list[Enrichment], events: list[tuple[EnrichedEvent, RawEvent]], passes: int
) -> float:
    """µs of CPU per event, the cost of copying each event subtracted; CPU time rather than
    wall time, so that other processes on the machine count less."""
    best_total = best_copy = float("inf")
    for _ in range(passes):
        started = time.process_time()
        for event, raw in events:
            enriched = dict(event)
            for enrichment in enrichments:
                enrichment.apply(enriched, raw)
        best_total = min(best_total, time.process_time() - started)
        started = time.process_time()
        for event, _raw in events:
            dict(event)
        best_copy = min(best_copy, time.process_time() - started)
    return (best_total - best_copy) / len(events) * 1e6


def run() -> list[Measurement]:
    config = _with_pii(CONFIG)
    try:
        enrichments = load_enrichments(config)
        fresh = load_enrichments(config)  # with empty caches, for the cold run
    finally:
        shutil.rmtree(config)
    example = load_enrichments(CONFIG)
    mix = _events(EVENTS, distinct=False)
    _time(enrichments, mix, 1)  # warm the caches, as a running enricher has them
    _time(example, mix, 1)
    measurements = [
        Measurement(
            PART,
            f"config/enrichments ({len(example)}, PII off), warm caches",
            _time(example, mix, PASSES),
            "µs/event",
            f"<= {TARGET_US}",
        ),
        Measurement(
            PART,
            f"all {len(enrichments)} with PII on 5 fields, warm caches",
            _time(enrichments, mix, PASSES),
            "µs/event",
        ),
    ]
    for enrichment in enrichments:
        measurements.append(
            Measurement(PART, enrichment.name, _time([enrichment], mix, PASSES), "µs/event")
        )
    cold = _events(EVENTS, distinct=True, seed=11)
    measurements.append(
        Measurement(
            PART,
            "all, every user agent and address new",
            _time(fresh, cold, 1),
            "µs/event",
            note="worst case: no cache hits",
        )
    )
    return measurements


if __name__ == "__main__":
    from bench.report import print_table

    print_table(run())
