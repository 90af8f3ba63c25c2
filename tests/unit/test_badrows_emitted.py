"""Every bad row Furrow writes is valid against Snowplow's schema of its type and version (the
built-in copies, whose verdicts equal Iglu Central's: see test_badrow_schemas): rows made from
real malformed input, through the collector's HTTP app, the enricher's core and the sinks'
documents, not written by hand."""

from __future__ import annotations

import asyncio
import base64
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import orjson
import pytest

from libs.formats import badrows
from libs.formats.collector_payload import CollectorPayload, encode
from libs.formats.enriched import EnrichedEvent, to_tsv
from libs.iglu_client import DirectoryRepository, HttpRepository, RepositorySettings, Resolver
from libs.iglu_repositories import BUILTIN_SCHEMAS
from libs.pipes import MemoryPipe, Record
from services.collector.app import build_app
from services.collector.config import CollectorConfig
from services.enrich.core import Enricher
from services.enrich.model import EnrichmentFailure, RawEvent, SelfDescribingJson
from services.enrich.rules import ValidityRules
from services.replay.rebuild import rebuild
from services.sinks.documents import UnreadableRecord, rejected_row, to_document

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
BUILTIN = BUILTIN_SCHEMAS
TP2 = "/com.snowplowanalytics.snowplow/tp2"
PAYLOAD_DATA = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4"
UNSTRUCT_EVENT = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"
CONTEXTS = "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1"
CHECKOUT = "iglu:com.acme/checkout/jsonschema/1-0-0"
MALFORMED = "iglu:com.acme/checkout/jsonschema/1-0"
# Nothing listens on the discard port: a registry that is down.
DOWN = "http://127.0.0.1:9"


def page_view(**extra: str) -> dict[str, str]:
    return {"e": "pv", "p": "web", "tv": "js-4.1.0", "url": "https://shop.example.com/a", **extra}


def checkout(data: object, schema: str = CHECKOUT, **extra: str) -> dict[str, str]:
    envelope = {"schema": UNSTRUCT_EVENT, "data": {"schema": schema, "data": data}}
    return {"e": "ue", "p": "web", "tv": "js-4.1.0", "ue_pr": json.dumps(envelope), **extra}


def with_contexts(parameters: dict[str, str], contexts: list[dict[str, Any]]) -> dict[str, str]:
    envelope = orjson.dumps({"schema": CONTEXTS, "data": contexts})
    return {**parameters, "cx": base64.urlsafe_b64encode(envelope).decode().rstrip("=")}


# (method, path, query, body, content type): each a malformed or refused request.
REQUESTS: list[tuple[str, str, dict[str, str], bytes | None, str | None]] = [
    ("GET", "/i", {}, None, None),
    ("GET", "/i", {"e": "pv", "p": "web", "tv": "js", "ue_px": "!!"}, None, None),
    ("GET", "/i", {"p": "web", "tv": "js", "dtm": "yesterday"}, None, None),
    ("GET", "/com.acme/v9", page_view(), None, None),
    ("POST", TP2, {}, b"{not json", "application/json"),
    (
        "POST",
        TP2,
        {},
        b'{"schema": "iglu:com.acme/x/jsonschema/1-0-0", "data": []}',
        "application/json",
    ),
    ("POST", "/v1/telemetry", {}, b'{"events": []}', "application/json"),
    ("GET", "/r/tp2", {}, None, None),
    # A schema no repository has, with the registry down: NotFound, then RepoFailure.
    ("GET", "/i", checkout({"total": 1}, "iglu:com.acme/unknown/jsonschema/1-0-0"), None, None),
    # Invalid data, a referer with a port (an integer in the row), a network user id that is
    # not a UUID, and a context too long for a parameter of the row.
    (
        "GET",
        "/i",
        with_contexts(
            checkout({"total": -1, "coupon": "x"}, refr="https://ads.example.com:8443/x"),
            [{"schema": CHECKOUT, "data": {"total": 1, "note": "n" * 600}}],
        ),
        None,
        None,
    ),
    ("GET", "/i", with_contexts(page_view(), [{"schema": MALFORMED, "data": {}}]), None, None),
    # A page view that breaks the validity rules (user_id required, device clock far behind).
    ("GET", "/i", page_view(dtm="1500000000000"), None, None),
    (
        "POST",
        TP2,
        {},
        orjson.dumps({"schema": PAYLOAD_DATA, "data": [page_view(), {}]}),
        "application/json",
    ),
]


class Failing:
    """An enrichment whose lookup fails, as one that reaches a database or an API can."""

    name = "api_request_enrichment_config"
    reads_derived_contexts = False

    def apply(self, event: EnrichedEvent, raw: RawEvent) -> list[SelfDescribingJson]:
        if raw.parameters.get("se_ca") == "fail":
            raise EnrichmentFailure(self.name, "the API answered 500")
        return []


@pytest.fixture(scope="module")
def schemas(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("schemas")
    folder = root / "com.acme" / "checkout" / "jsonschema"
    folder.mkdir(parents=True)
    checkout_schema = {
        "self": {
            "vendor": "com.acme",
            "name": "checkout",
            "format": "jsonschema",
            "version": "1-0-0",
        },
        "type": "object",
        "properties": {"total": {"type": "number", "minimum": 0}, "note": {"type": "string"}},
        "required": ["total"],
        "additionalProperties": False,
    }
    (folder / "1-0-0").write_text(json.dumps(checkout_schema))
    return root


def enricher(schemas: Path, **options: Any) -> Enricher:
    repositories = [
        DirectoryRepository(RepositorySettings(name="acme", path=schemas)),
        DirectoryRepository(RepositorySettings(name="built in", path=BUILTIN)),
        HttpRepository(RepositorySettings(name="furrow registry", url=DOWN), timeout_s=1),
    ]
    return Enricher(
        validator=Resolver(repositories, attempts=2, backoff_s=0),
        enrichments=[Failing()],
        rules=ValidityRules(max_device_age_s=86400),
        **options,
    )


async def collected(
    requests: list[tuple[str, str, dict[str, str], bytes | None, str | None]],
) -> MemoryPipe:
    pipe = MemoryPipe(max_bytes=64 * 1024)
    app = build_app(CollectorConfig(max_body_bytes=20_000), pipe)
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://c.test") as client:
        for method, path, query, body, content_type in requests:
            headers = {"Content-Type": content_type} if content_type else {}
            params = {**query, "nuid": "not-a-uuid"} if "refr" in query else query
            await client.request(method, path, params=params, content=body, headers=headers)
        # Over the body limit: the collector's own size_violation.
        await client.post(TP2, content=b"x" * 30_000, headers={"Content-Type": "application/json"})
    return pipe


def sink_rows() -> list[bytes]:
    """The sinks' rows: an unreadable enriched line, a bad row that is not JSON, and an event
    Elasticsearch refused, with an app_id longer than the warehouse column."""
    rows = []
    for kind, value in (("good", b"not\tan\tevent"), ("bad", b"{oops")):
        with pytest.raises(UnreadableRecord) as unreadable:
            to_document(kind, Record(kind, 0, 1, value, timestamp_ms=1_795_000_000_000))
        rows.append(unreadable.value.bad_row)
    line = to_tsv(
        {
            "app_id": "a" * 300,
            "platform": "web",
            "collector_tstamp": "2026-11-23 12:00:00.000",
            "event": "page_view",
            "event_id": "e0a5a8b2-0000-4000-8000-000000000003",
            "v_collector": "furrow-0.4.0-kafka",
            "v_etl": "furrow-enrich-0.4.0",
            "br_cookies": "1",
            "tr_total": "12.50",
            "refr_urlport": "8443",
            "contexts": orjson.dumps({"schema": CONTEXTS, "data": []}).decode(),
        }
    )
    record = Record("good", 0, 2, line.encode())
    rows.append(rejected_row("good", record, "mapper_parsing_exception: app_id"))
    return rows


@pytest.fixture(scope="module")
def rows(schemas: Path) -> list[dict[str, Any]]:
    pipe = asyncio.run(collected(REQUESTS))
    enrich = enricher(schemas, max_event_bytes=4096)
    outputs = [m.value for m in pipe.written if m.topic == "bad"]
    for message in pipe.written:
        if message.topic == "raw":
            outputs += enrich.enrich(message.value, now=NOW).bad
    outputs += enrich.enrich(b"\x00\x01not thrift", now=NOW).bad
    structured = page_view(e="se", se_ca="fail", se_ac="buy", uid="u1")
    outputs += enrich.enrich(_raw(structured), now=NOW).bad
    outputs += enrich.enrich(_raw(page_view(uid="u1", page="p" * 5000)), now=NOW).bad
    outputs += sink_rows()
    return [orjson.loads(row) for row in outputs]


def _raw(parameters: dict[str, str]) -> bytes:
    return encode(
        CollectorPayload(
            ip_address="203.0.113.9",
            timestamp_ms=int(NOW.timestamp() * 1000),
            collector="furrow-0.4.0-kafka",
            path="/i",
            querystring=urlencode(parameters),
        )
    )


def test_every_row_is_valid_against_snowplows_schema(rows: list[dict[str, Any]]) -> None:
    resolver = Resolver([DirectoryRepository(RepositorySettings(name="built in", path=BUILTIN))])
    invalid = {
        row["schema"]: resolver.validate(row) for row in rows if resolver.validate(row) != []
    }
    assert invalid == {}
    counts = Counter(badrows.type_of(row["schema"]) for row in rows)
    assert set(counts) == {
        "size_violation",
        "collector_payload_format_violation",
        "adapter_failures",
        "tracker_protocol_violations",
        "schema_violations",
        "enrichment_failures",
        "generic_error",
        "loader_parsing_error",
        "loader_runtime_error",
    }


def of_type(rows: list[dict[str, Any]], bad_type: str) -> list[dict[str, Any]]:
    return [row["data"] for row in rows if badrows.type_of(row["schema"]) == bad_type]


def iglu_error(message: dict[str, Any]) -> object:
    error = message.get("error")
    return error.get("error") if isinstance(error, dict) else None


def test_lookup_history_is_snowplows(rows: list[dict[str, Any]]) -> None:
    (history,) = [
        message["error"]["lookupHistory"]
        for data in of_type(rows, "schema_violations")
        for message in data["failure"]["messages"]
        if iglu_error(message) == "ResolutionError"
    ]
    assert [(entry["repository"], entry["attempts"]) for entry in history] == [
        ("acme", 1),
        ("built in", 1),
        ("furrow registry", 2),
    ]
    assert history[0]["errors"] == [{"error": "NotFound"}]
    (failure,) = history[2]["errors"]
    assert failure["error"] == "RepoFailure"
    assert "127.0.0.1:9" in failure["message"]


def test_data_reports_have_targets_and_enriched_fields_their_types(
    rows: list[dict[str, Any]],
) -> None:
    (data,) = [
        data
        for data in of_type(rows, "schema_violations")
        if iglu_error(data["failure"]["messages"][0]) == "ValidationError"
    ]
    (message,) = data["failure"]["messages"]
    reports = {report["keyword"]: report for report in message["error"]["dataReports"]}
    assert reports["minimum"]["path"] == "$.total"
    assert reports["additionalProperties"]["targets"] == ["coupon"]
    enriched = data["payload"]["enriched"]
    assert enriched["refr_urlport"] == 8443
    raw = data["payload"]["raw"]
    assert raw["userId"] is None
    assert all(len(p["value"]) <= badrows.MAX_PARAMETER_CHARS for p in raw["parameters"])
    # The context cut in the parameters is whole in the enriched event, and replay uses it.
    rebuilt = dict(
        parse_qsl(rebuild({"schema": badrows.SCHEMA_VIOLATIONS, "data": data}).querystring)
    )
    assert orjson.loads(rebuilt["co"])["data"][0]["data"]["note"] == "n" * 600


def test_a_malformed_schema_uri_is_not_self_describing_json(rows: list[dict[str, Any]]) -> None:
    messages = [m for d in of_type(rows, "schema_violations") for m in d["failure"]["messages"]]
    (message,) = [m for m in messages if "json" in m]
    assert message["error"] == "INVALID_IGLUURI"
    assert message["json"]["schema"] == MALFORMED


def test_enrichment_failures_name_their_enrichment_or_none(rows: list[dict[str, Any]]) -> None:
    enrichments = [
        m["enrichment"]
        for d in of_type(rows, "enrichment_failures")
        for m in d["failure"]["messages"]
    ]
    assert None in enrichments
    assert {
        "schemaKey": f"iglu:com.snowplowanalytics.snowplow/{Failing.name}/jsonschema/1-0-0",
        "identifier": Failing.name,
    } in enrichments


def test_loader_rows_fit_the_warehouse_columns(rows: list[dict[str, Any]]) -> None:
    (data,) = of_type(rows, "loader_runtime_error")
    assert data["payload"]["app_id"] == "a" * 255
    assert data["payload"]["br_cookies"] is True
    assert data["payload"]["tr_total"] == 12.5
