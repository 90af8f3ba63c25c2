"""Good events and bad rows in a real Elasticsearch, for the console's tests: tracker requests
go through the enricher's core, its outputs through the sinks' own documents, templates and
daily indices, so the console reads exactly what the pipeline writes."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson
from elasticsearch import AsyncElasticsearch

from libs.formats.collector_payload import CollectorPayload, encode
from libs.iglu_client import RepositorySettings, Resolver
from libs.iglu_repositories import resolver_repositories
from libs.pipes import Record
from services.enrich.core import Enricher, Outputs
from services.sinks.config import SinkConfig, SinkKind, sink_defaults
from services.sinks.documents import to_document
from services.sinks.elastic import install_template
from services.sinks.mappings import index_name
from tests.integration.processes import Names

SP = "iglu:com.snowplowanalytics.snowplow"
CHECKOUT = "iglu:com.acme/checkout/jsonschema/1-0-0"
GEOLOCATION = f"{SP}/geolocation_context/jsonschema/1-1-0"
CHECKOUT_SCHEMA = {
    "$schema": "http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#",
    "self": {"vendor": "com.acme", "name": "checkout", "format": "jsonschema", "version": "1-0-0"},
    "type": "object",
    "properties": {"total": {"type": "number", "minimum": 0}},
    "required": ["total"],
    "additionalProperties": False,
}


def write_schemas(directory: Path) -> Path:
    schema_file = directory / "com.acme" / "checkout" / "jsonschema" / "1-0-0"
    schema_file.parent.mkdir(parents=True, exist_ok=True)
    schema_file.write_bytes(orjson.dumps(CHECKOUT_SCHEMA))
    return directory


def page_view(app_id: str, user_id: str, event_id: str) -> dict[str, str]:
    entity = {"schema": GEOLOCATION, "data": {"latitude": 52.5, "longitude": 13.4}}
    return {
        "e": "pv",
        "p": "web",
        "tv": "py-1.1.0",
        "aid": app_id,
        "uid": user_id,
        "eid": event_id,
        "url": f"https://shop.example.com/{app_id}",
        "co": orjson.dumps(
            {"schema": f"{SP}/contexts/jsonschema/1-0-1", "data": [entity]}
        ).decode(),
    }


def structured(app_id: str, event_id: str) -> dict[str, str]:
    return {
        "e": "se",
        "p": "mob",
        "tv": "py-1.1.0",
        "aid": app_id,
        "eid": event_id,
        "se_ca": "shop",
        "se_ac": "add",
    }


def checkout(app_id: str, event_id: str, total: float, schema: str = CHECKOUT) -> dict[str, str]:
    event = {"schema": schema, "data": {"total": total}}
    return {
        "e": "ue",
        "p": "srv",
        "tv": "py-1.1.0",
        "aid": app_id,
        "eid": event_id,
        "ue_pr": orjson.dumps(
            {"schema": f"{SP}/unstruct_event/jsonschema/1-0-0", "data": event}
        ).decode(),
    }


@dataclass
class Loaded:
    """What was written, to compare the console's answers with."""

    good_alias: str
    bad_alias: str
    logs_alias: str
    good: int = 0
    bad: int = 0
    event_ids: dict[str, str] = field(default_factory=dict)


def requests(tag: str) -> tuple[list[dict[str, str]], dict[str, str]]:
    """Tracker requests of two apps: 6 page views, 4 structured events, 2 valid checkouts (12
    good); 3 checkouts with a negative total, 2 of a schema nobody has, 1 with a broken event
    id (6 bad); and the event ids to look up."""
    ids = {
        "page_view": str(uuid.uuid4()),
        "negative": str(uuid.uuid4()),
    }
    shop, blog = f"shop-{tag}", f"blog-{tag}"
    sent = [page_view(shop, "alice", ids["page_view"])]
    sent += [page_view(shop if n % 2 else blog, "bob", str(uuid.uuid4())) for n in range(5)]
    sent += [structured(blog, str(uuid.uuid4())) for _ in range(4)]
    sent += [checkout(shop, str(uuid.uuid4()), 10.5 * n) for n in (1, 2)]
    sent += [checkout(shop, ids["negative"], -1)]
    sent += [checkout(shop, str(uuid.uuid4()), -n) for n in (2, 3)]
    sent += [
        checkout(blog, str(uuid.uuid4()), 1, "iglu:com.acme/nowhere/jsonschema/1-0-0")
        for _ in range(2)
    ]
    sent += [structured(blog, "not-a-uuid")]
    return sent, ids


def log_lines() -> list[bytes]:
    """Lines as logback's encoder writes them: 3 of the shop at INFO, 2 errors, 1 warning."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    lines = [
        ("INFO", "com.acme.shop.Cart", "cart 7 has 3 items"),
        ("INFO", "com.acme.shop.Cart", "cart 8 has 1 item"),
        ("INFO", "com.acme.shop.Checkout", "order 42 placed"),
        ("ERROR", "com.acme.shop.Payment", "payment failed for order 43"),
        ("ERROR", "com.acme.shop.Payment", "payment gateway timed out"),
        ("WARN", "com.acme.shop.Stock", "stock of item 9 below 5"),
    ]
    return [
        orjson.dumps(
            {
                "@timestamp": now,
                "@version": "1",
                "level": level,
                "logger_name": logger,
                "message": message,
                "service": "shop",
            }
        )
        for level, logger, message in lines
    ]


async def load(client: AsyncElasticsearch, schemas: Path, names: Names) -> Loaded:
    sent, ids = requests(names.tag)
    outputs = enriched(schemas, sent)
    good_alias, bad_alias, logs_alias = (names.alias(kind) for kind in ("good", "bad", "logs"))
    loaded = Loaded(good_alias, bad_alias, logs_alias, len(outputs.good), len(outputs.bad), ids)
    for kind, alias, values in (
        ("good", good_alias, [line.encode() for line in outputs.good]),
        ("bad", bad_alias, outputs.bad),
        ("logs", logs_alias, log_lines()),
    ):
        await index(client, kind, alias, values)  # type: ignore[arg-type]
    return loaded


def enriched(schemas: Path, queries: list[dict[str, str]]) -> Outputs:
    """What the enricher's core makes of GET requests collected now."""
    resolver = Resolver(
        resolver_repositories([RepositorySettings(name="test schemas", path=schemas)])
    )
    enricher = Enricher(validator=resolver)
    outputs = Outputs()
    now = datetime.now(UTC)
    for query in queries:
        payload = CollectorPayload(
            ip_address="203.0.113.9",
            timestamp_ms=int(time.time() * 1000),
            collector="furrow-test",
            path="/i",
            querystring=urlencode(query),
            user_agent="Mozilla/5.0",
        )
        enricher.enrich(encode(payload), now=now, outputs=outputs)
    return outputs


async def index(
    client: AsyncElasticsearch, kind: SinkKind, alias: str, values: list[bytes]
) -> None:
    config = SinkConfig(**{**sink_defaults(kind), "index": alias})
    await install_template(client, kind, config)
    operations: list[dict[str, Any]] = []
    for offset, value in enumerate(values):
        record = Record(alias, 0, offset, value, timestamp_ms=int(time.time() * 1000))
        document = to_document(kind, record)
        operations.append(
            {"index": {"_index": index_name(alias, document.day), "_id": document.id}}
        )
        operations.append(orjson.loads(document.source))
    answer = await client.bulk(operations=operations, refresh=True)
    assert not answer["errors"], answer


def fresh_document(schemas: Path, alias: str, query: dict[str, str]) -> dict[str, Any]:
    """An event collected now as the good sink would write it: its daily index, id and source,
    for a client (a browser test) to index itself."""
    outputs = enriched(schemas, [query])
    assert not outputs.bad, outputs.bad
    [line] = outputs.good
    document = to_document("good", Record(alias, 0, 0, line.encode()))
    return {
        "index": index_name(alias, document.day),
        "id": document.id,
        "source": orjson.loads(document.source),
    }
