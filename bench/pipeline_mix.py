"""The whole-pipeline benchmark's traffic: what trackers send, as HTTP requests, with how many
events each carries and how many of those must end up as bad rows.

Pure: a seeded generator of requests and the schemas the self-describing events need. Most events
arrive in POST tp2 batches (as the JavaScript and mobile trackers send them), some as GET pixels;
about one event in twenty is invalid, in one of two ways (data breaking its schema, or a missing
event type), each of which the enricher turns into exactly one bad row per event.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import orjson

from bench.enrich import SCHEMAS as ENRICH_SCHEMAS

TP2_PATH = "/com.snowplowanalytics.snowplow/tp2"
PIXEL_PATH = "/i"
PAYLOAD_DATA = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4"
UNSTRUCT = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"
CONTEXTS = "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1"
CHECKOUT = "iglu:com.acme.bench/checkout/jsonschema/1-0-0"
USER = "iglu:com.acme.bench/user/jsonschema/1-0-0"
PAGE = "iglu:com.acme.bench/page/jsonschema/1-0-0"
SELF_DESCRIBING_META = (
    "http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#"
)

# Share of events of each kind in POST batches and in GETs.
BATCH_KINDS: tuple[tuple[str, float], ...] = (
    ("page_view", 0.35),
    ("page_ping", 0.15),
    ("struct", 0.20),
    ("self_describing", 0.25),
    ("invalid_data", 0.05),
)
PIXEL_KINDS: tuple[tuple[str, float], ...] = (
    ("page_view", 0.40),
    ("page_ping", 0.15),
    ("struct", 0.20),
    ("self_describing", 0.20),
    ("missing_event_type", 0.05),
)
INVALID_KINDS = frozenset({"invalid_data", "missing_event_type"})
# Share of requests that are GET pixels (one event each); the rest are POST batches.
GET_SHARE = 0.2
MAX_BATCH = 10
PAGES = ("/", "/products", "/products/42", "/cart", "/checkout", "/blog/furrow")


@dataclass(frozen=True)
class TrackerRequest:
    """One HTTP request of a tracker, with what the pipeline must make of it."""

    method: str  # "GET" or "POST"
    path: str
    query: str  # already encoded, without "?"
    body: bytes | None
    events: int
    invalid_events: int
    # The event id of a marker request, whose latency to searchable is measured.
    marker_id: str | None = None

    @property
    def target(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path


def schemas() -> dict[str, dict[str, Any]]:
    """The self-describing schemas the mix needs, by `vendor/name/format/version` path."""
    # The bodies of the enricher benchmark's schemas, under a vendor of the pipeline's own.
    bodies = {
        CHECKOUT: ENRICH_SCHEMAS["com.acme/checkout/jsonschema/1-0-0"],
        USER: ENRICH_SCHEMAS["com.acme/user/jsonschema/1-0-0"],
        PAGE: ENRICH_SCHEMAS["com.acme/page/jsonschema/1-0-0"],
    }
    documents = {}
    for uri, body in bodies.items():
        vendor, name, schema_format, version = uri.removeprefix("iglu:").split("/")
        self_key = {"vendor": vendor, "name": name, "format": schema_format, "version": version}
        documents[uri.removeprefix("iglu:")] = {
            "$schema": SELF_DESCRIBING_META,
            "self": self_key,
            **body,
        }
    return documents


class TrackerMix:
    """Requests of the mix, one after another, from a seed; `now_ms` stamps their events."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def event_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def request(self, now_ms: int) -> TrackerRequest:
        if self._rng.random() < GET_SHARE:
            kind = self._kind(PIXEL_KINDS)
            return pixel_request(self.event(kind, now_ms), invalid=kind in INVALID_KINDS)
        kinds = [self._kind(BATCH_KINDS) for _ in range(self._rng.randint(1, MAX_BATCH))]
        return batch_request(
            [self.event(kind, now_ms) for kind in kinds],
            invalid=sum(kind in INVALID_KINDS for kind in kinds),
            now_ms=now_ms,
        )

    def marker(self, now_ms: int) -> TrackerRequest:
        """A valid page view sent alone as a GET, so nothing queues it behind other events."""
        parameters = self.event("page_view", now_ms)
        event_id = parameters["eid"]
        return TrackerRequest("GET", PIXEL_PATH, urlencode(parameters), None, 1, 0, event_id)

    def _kind(self, table: tuple[tuple[str, float], ...]) -> str:
        return self._rng.choices([kind for kind, _ in table], [share for _, share in table])[0]

    def event(self, kind: str, now_ms: int) -> dict[str, str]:
        """One event's tracker parameters (strings, as trackers send them)."""
        rng = self._rng
        page = rng.choice(PAGES)
        parameters = {
            "e": "pv",
            "p": "web",
            "tv": "js-3.24.0",
            "tna": "sp",
            "aid": "shop",
            "eid": self.event_id(),
            "dtm": str(now_ms - rng.randrange(50, 500)),
            "url": f"https://shop.example.com{page}?utm_source=newsletter&utm_medium=email",
            "page": f"Shop - {page}",
            "duid": f"a1b2c3d4-e5f6-4a7b-8c9d-{rng.randrange(9000):012d}",
            "vid": str(rng.randrange(1, 20)),
            "res": "1920x1080",
            "lang": "fr-FR",
        }
        if kind == "page_ping":
            parameters.update(e="pp", pp_mix="0", pp_max="120", pp_miy="300", pp_may="900")
        elif kind == "struct":
            parameters.update(e="se", se_ca="shop", se_ac="add-to-cart", se_la=page, se_va="2.5")
        elif kind in ("self_describing", "invalid_data"):
            total = -1 if kind == "invalid_data" else rng.randint(1, 500)
            parameters.update(e="ue", **self._self_describing(total))
        elif kind == "missing_event_type":
            del parameters["e"]
        return parameters

    def _self_describing(self, total: int) -> dict[str, str]:
        checkout = {
            "schema": CHECKOUT,
            "data": {
                "order_id": self.event_id(),
                "total": total,
                "currency": "EUR",
                "items": [{"sku": f"sku-{self._rng.randrange(100)}"}],
            },
        }
        entities = [
            {
                "schema": USER,
                "data": {"plan": self._rng.choice(["free", "pro"]), "email": "a@b.io"},
            },
            {"schema": PAGE, "data": {"id": self.event_id(), "category": "checkout"}},
        ]
        return {
            "ue_pr": orjson.dumps({"schema": UNSTRUCT, "data": checkout}).decode(),
            "co": orjson.dumps({"schema": CONTEXTS, "data": entities}).decode(),
        }


def pixel_request(parameters: dict[str, str], *, invalid: bool) -> TrackerRequest:
    return TrackerRequest("GET", PIXEL_PATH, urlencode(parameters), None, 1, int(invalid))


def batch_request(events: list[dict[str, str]], *, invalid: int, now_ms: int) -> TrackerRequest:
    """A tp2 POST of `events`, stamped with the send time as trackers do."""
    stamped = [{**event, "stm": str(now_ms)} for event in events]
    body = orjson.dumps({"schema": PAYLOAD_DATA, "data": stamped})
    return TrackerRequest("POST", TP2_PATH, "", body, len(events), invalid)
