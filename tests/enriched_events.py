"""Realistic enriched events (131-field TSV lines) as an enricher writes them, until the real
enricher produces them: page views, page pings, structured, self-describing and ecommerce events,
with the contexts and derived contexts (web page, user, UA parser) a web tracker's events carry."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import orjson

from libs.formats.enriched import to_tsv

START = datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
EVENT_TYPES = ("page_view", "page_ping", "struct", "unstruct", "transaction")
_PAGES = ("/", "/products", "/products/42", "/cart", "/checkout", "/blog/snowplow-on-elasticsearch")
_AGENTS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
)


def tstamp(moment: datetime) -> str:
    """An enriched-event timestamp, `YYYY-MM-DD HH:MM:SS.mmm` UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def self_describing(schema: str, data: object) -> str:
    return orjson.dumps({"schema": schema, "data": data}).decode()


def contexts(*entities: tuple[str, object]) -> str:
    wrapped = [{"schema": schema, "data": data} for schema, data in entities]
    return self_describing("iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1", wrapped)


def unstruct(schema: str, data: object) -> str:
    return self_describing(
        "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",
        {"schema": schema, "data": data},
    )


def event_fields(number: int, rng: random.Random) -> dict[str, str]:
    """The non-empty fields of the `number`-th event of a session-like stream."""
    event_type = EVENT_TYPES[number % len(EVENT_TYPES)]
    collected = START + timedelta(seconds=number * 0.25)
    page = rng.choice(_PAGES)
    fields = {
        "app_id": "shop",
        "platform": "web",
        "etl_tstamp": tstamp(collected + timedelta(seconds=1)),
        "collector_tstamp": tstamp(collected),
        "dvce_created_tstamp": tstamp(collected - timedelta(milliseconds=120)),
        "dvce_sent_tstamp": tstamp(collected - timedelta(milliseconds=20)),
        "derived_tstamp": tstamp(collected - timedelta(milliseconds=100)),
        "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "name_tracker": "sp",
        "v_tracker": "js-4.1.0",
        "v_collector": "furrow-collector-0.1.0",
        "v_etl": "furrow-enrich-0.1.0",
        "user_ipaddress": f"203.0.113.{rng.randrange(1, 255)}",
        "domain_userid": f"d{rng.randrange(1000):04d}",
        "domain_sessionidx": str(rng.randrange(1, 20)),
        "domain_sessionid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "network_userid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "geo_country": "DE",
        "geo_region": "BE",
        "geo_city": "Berlin",
        "geo_zipcode": "10115",
        "geo_latitude": f"{52.52 + rng.random() / 100:.4f}",
        "geo_longitude": f"{13.40 + rng.random() / 100:.4f}",
        "geo_region_name": "Berlin",
        "geo_timezone": "Europe/Berlin",
        "page_url": f"https://shop.example.com{page}?utm_source=newsletter",
        "page_title": f"Shop - {page}",
        "page_referrer": "https://www.google.com/",
        "page_urlscheme": "https",
        "page_urlhost": "shop.example.com",
        "page_urlport": "443",
        "page_urlpath": page,
        "page_urlquery": "utm_source=newsletter",
        "refr_urlscheme": "https",
        "refr_urlhost": "www.google.com",
        "refr_urlport": "443",
        "refr_urlpath": "/",
        "refr_medium": "search",
        "refr_source": "Google",
        "mkt_medium": "email",
        "mkt_source": "newsletter",
        "useragent": rng.choice(_AGENTS),
        "br_lang": "de-DE",
        "br_cookies": "1",
        "br_colordepth": "24",
        "br_viewwidth": "1280",
        "br_viewheight": "720",
        "os_timezone": "Europe/Berlin",
        "dvce_screenwidth": "1920",
        "dvce_screenheight": "1080",
        "doc_charset": "UTF-8",
        "doc_width": "1280",
        "doc_height": "3000",
        "contexts": contexts(
            (
                "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0",
                {"id": str(uuid.UUID(int=rng.getrandbits(128), version=4))},
            ),
            ("iglu:com.acme/user/jsonschema/1-0-2", {"plan": rng.choice(["free", "pro"])}),
        ),
        "derived_contexts": contexts(
            (
                "iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0",
                {"useragentFamily": "Chrome", "osFamily": "Linux", "deviceFamily": "Other"},
            )
        ),
        "event_fingerprint": f"{rng.getrandbits(128):032x}",
    }
    fields.update(_by_type(event_type, number, rng))
    return fields


def _by_type(event_type: str, number: int, rng: random.Random) -> dict[str, str]:
    if event_type == "page_view":
        return {"event": "page_view", **_schema("page_view", "1-0-0")}
    if event_type == "page_ping":
        return {
            "event": "page_ping",
            "pp_xoffset_min": "0",
            "pp_xoffset_max": "0",
            "pp_yoffset_min": str(rng.randrange(0, 500)),
            "pp_yoffset_max": str(rng.randrange(500, 3000)),
            **_schema("page_ping", "1-0-0"),
        }
    if event_type == "struct":
        return {
            "event": "struct",
            "se_category": "checkout",
            "se_action": "add-to-basket",
            "se_label": f"sku-{number % 50}",
            "se_value": f"{rng.randrange(100, 10000) / 100:.2f}",
            **_schema("event", "1-0-0"),
        }
    if event_type == "unstruct":
        return {
            "event": "unstruct",
            "unstruct_event": unstruct(
                "iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1",
                {"targetUrl": "https://shop.example.com/sale", "elementId": "banner"},
            ),
            **_schema("link_click", "1-0-1"),
        }
    return {
        "event": "transaction",
        "tr_orderid": f"order-{number}",
        "tr_affiliation": "web",
        "tr_total": f"{rng.randrange(1000, 50000) / 100:.2f}",
        "tr_tax": "4.20",
        "tr_shipping": "5.00",
        "tr_city": "Berlin",
        "tr_country": "DE",
        "tr_currency": "EUR",
        **_schema("transaction", "1-0-0"),
    }


def _schema(name: str, version: str) -> dict[str, str]:
    vendor = "com.snowplowanalytics.snowplow"
    return {
        "event_vendor": vendor,
        "event_name": name,
        "event_format": "jsonschema",
        "event_version": version,
    }


def enriched_lines(count: int, *, seed: int = 6) -> Iterator[bytes]:
    """`count` enriched TSV lines, the same ones for the same seed."""
    rng = random.Random(seed)
    for number in range(count):
        yield to_tsv(event_fields(number, rng)).encode()
