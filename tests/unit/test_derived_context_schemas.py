"""Every schema the enricher itself emits is served by the registry: the derived contexts of the
shipped enrichments (all switched on) and the events and entities the adapters make are valid
against the registry's core schema of their URI, so the code and the schemas cannot drift."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson
import pytest

from iglu_registry.bootstrap import CORE_SCHEMAS
from libs.formats.collector_payload import CollectorPayload, encode
from libs.formats.enriched import to_event
from libs.formats.iglu import SchemaKey
from libs.iglu_client import DirectoryRepository, RepositorySettings, Resolver
from services.enrich.adapters import adapt
from services.enrich.core import Enricher
from services.enrich.enrichments import load_enrichments
from services.enrich.model import SelfDescribingJson

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SHIPPED_CONFIG = Path(__file__).resolve().parents[2] / "config" / "enrichments"
SIGNUP = "iglu:com.acme/signup/jsonschema/1-0-0"
UNSTRUCT = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"

CORE = Resolver([DirectoryRepository(RepositorySettings(name="core", path=CORE_SCHEMAS))])


class SignupSchema:
    """The customer schema the shipped PII configuration names (`com.acme/signup`)."""

    settings = RepositorySettings(name="acme", url="http://acme.test")

    def fetch(self, key: SchemaKey, *, fresh: bool = False) -> dict[str, Any] | None:
        if key.uri != SIGNUP:
            return None
        return {
            "self": {
                "vendor": "com.acme",
                "name": "signup",
                "format": "jsonschema",
                "version": "1-0-0",
            },
            "type": "object",
            "properties": {"email": {"type": "string"}},
        }


@pytest.fixture
def enricher(tmp_path: Path) -> Enricher:
    """The enricher with every shipped enrichment switched on (PII is off by default), and a
    HASH-MASK rule on an atomic field beside the shipped one on a JSON field."""
    for path in SHIPPED_CONFIG.glob("*.json"):
        configuration = orjson.loads(path.read_bytes())
        configuration["data"]["enabled"] = True
        if configuration["data"]["name"] == "pii_enrichment_config":
            configuration["data"]["parameters"]["pii"].append(
                {"pojo": {"field": "user_id", "strategy": "HASH-MASK"}}
            )
        (tmp_path / path.name).write_bytes(orjson.dumps(configuration))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in SHIPPED_CONFIG.glob("*.json")
    )
    core = DirectoryRepository(RepositorySettings(name="core", path=CORE_SCHEMAS))
    return Enricher(
        validator=Resolver([core, SignupSchema()]), enrichments=load_enrichments(tmp_path)
    )


def signup_request() -> bytes:
    """A real browser's self-describing event, with the headers and cookies the shipped
    extractors look for."""
    parameters = {
        "e": "ue",
        "p": "web",
        "tv": "js-3.24.0",
        "uid": "jane",
        "url": "https://shop.example.com/signup?utm_source=news&utm_medium=email",
        "refr": "https://www.google.com/search?q=shop",
        "ue_pr": orjson.dumps(
            {"schema": UNSTRUCT, "data": {"schema": SIGNUP, "data": {"email": "jane@example.com"}}}
        ).decode(),
    }
    return encode(
        CollectorPayload(
            ip_address="81.2.69.160",
            timestamp_ms=1_795_000_000_000,
            collector="furrow-test",
            path="/i",
            querystring=urlencode(parameters),
            user_agent=FIREFOX,
            headers=(
                f"User-Agent: {FIREFOX}",
                "Accept-Language: en-GB,en;q=0.9",
                "Origin: https://shop.example.com",
                "Cookie: _ga=GA1.2.3.4; _fbp=fb.1.2.3; sp=abc",
            ),
            network_user_id="abc",
        )
    )


def assert_served_and_valid(entity: SelfDescribingJson) -> None:
    assert CORE.validate(entity) == [], entity


def test_every_derived_context_of_the_shipped_enrichments_is_valid(enricher: Enricher) -> None:
    outputs = enricher.enrich(signup_request(), now=NOW)
    assert outputs.bad == []
    (line,) = outputs.good
    derived = to_event(line)["derived_contexts"]
    assert derived["schema"] == "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1"
    assert_served_and_valid(derived)
    for context in derived["data"]:
        assert_served_and_valid(context)
    # Every enrichment that derives contexts did so here: none of the schemas goes unchecked.
    assert {context["schema"] for context in derived["data"]} == {
        "iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0",
        "iglu:org.ietf/http_cookie/jsonschema/1-0-0",
        "iglu:org.ietf/http_header/jsonschema/1-0-0",
        "iglu:dev.furrow/pii_masked_value/jsonschema/1-0-0",
    }
    masked = [c["data"] for c in derived["data"] if "/pii_masked_value/" in c["schema"]]
    assert sorted(value["field"] for value in masked) == ["unstruct_event", "user_id"]


def no_problems(instance: SelfDescribingJson) -> list[str]:
    return []


@pytest.mark.parametrize(
    ("path", "query", "body"),
    [
        ("/r/tp2", "u=https%3A%2F%2Fshop.example.com%2Fsale%3Fid%3D7", None),
        (
            "/v1/telemetry",
            None,
            {
                "id": "api.sunbird.telemetry",
                "ver": "3.0",
                "params": {"msgid": "batch-7"},
                "events": [{"eid": "START", "ets": 1795000000000, "mid": "START:1"}],
            },
        ),
        ("/v1/telemetry", None, {"events": [{"eid": "START"}]}),
    ],
)
def test_the_events_and_entities_the_adapters_make_are_valid(
    path: str, query: str | None, body: dict[str, Any] | None
) -> None:
    request = CollectorPayload(
        ip_address="81.2.69.160",
        timestamp_ms=1_795_000_000_000,
        collector="furrow-test",
        path=path,
        querystring=query,
        body=None if body is None else orjson.dumps(body),
        content_type=None if body is None else "application/json",
    )
    (event,) = adapt(request, no_problems, telemetry_vendor="org.sunbird.telemetry").events
    made: list[SelfDescribingJson] = []
    if path == "/r/tp2":
        made.append(orjson.loads(event.parameters["ue_pr"])["data"])
    else:
        made.extend(orjson.loads(event.parameters["co"])["data"])
    assert made
    for entity in made:
        assert_served_and_valid(entity)
