"""The enricher's core, raw record in, outputs out: one output per event, each bad-row type from
a real malformed input, and good events the Snowplow Analytics SDK reads."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import orjson
import pytest
from snowplow_analytics_sdk.event_transformer import transform

from libs.formats.collector_payload import CollectorPayload, encode
from libs.formats.enriched import EnrichedEvent
from libs.formats.iglu import SchemaKey
from libs.iglu_client import DirectoryRepository, RepositorySettings, Resolver
from libs.iglu_repositories import BUILTIN_SCHEMAS
from services.enrich.core import Enricher
from services.enrich.enrichments.pii import Pii, PiiParameters
from services.enrich.model import EnrichmentFailure, RawEvent, SelfDescribingJson
from services.enrich.rules import Deduplicator, ValidityRules

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TP2 = "/com.snowplowanalytics.snowplow/tp2"
PAYLOAD_DATA = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4"
CHECKOUT = "iglu:com.acme/checkout/jsonschema/1-0-0"
USER = "iglu:com.acme/user/jsonschema/1-0-0"


def jsonschema(vendor: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
    self_ = {"vendor": vendor, "name": name, "format": "jsonschema", "version": "1-0-0"}
    return {"self": self_, **body}


SCHEMAS = {
    PAYLOAD_DATA: jsonschema(
        "com.snowplowanalytics.snowplow",
        "payload_data",
        {
            "type": "array",
            "minItems": 1,
            "items": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    ),
    CHECKOUT: jsonschema(
        "com.acme",
        "checkout",
        {
            "type": "object",
            "properties": {"total": {"type": "number", "minimum": 0}},
            "required": ["total"],
            "additionalProperties": False,
        },
    ),
    USER: jsonschema(
        "com.acme", "user", {"type": "object", "properties": {"plan": {"enum": ["free", "pro"]}}}
    ),
}


class Schemas:
    settings = RepositorySettings(name="test schemas", url="http://test")

    def fetch(self, key: SchemaKey, *, fresh: bool = False) -> dict[str, Any] | None:
        return SCHEMAS.get(key.uri)


def enricher(**options: Any) -> Enricher:
    return Enricher(validator=Resolver([Schemas()]), **options)


def get(query: dict[str, str], path: str = "/i") -> bytes:
    return encode(
        CollectorPayload(
            ip_address="203.0.113.9",
            timestamp_ms=1_795_000_000_000,
            collector="furrow-test",
            path=path,
            querystring=urlencode(query),
            user_agent="Mozilla/5.0",
            network_user_id="nuid-1",
        )
    )


def post(events: list[dict[str, str]]) -> bytes:
    body = orjson.dumps({"schema": PAYLOAD_DATA, "data": events})
    return encode(
        CollectorPayload(
            ip_address="203.0.113.9",
            timestamp_ms=1_795_000_000_000,
            collector="furrow-test",
            path=TP2,
            body=body,
            content_type="application/json",
        )
    )


def page_view(**extra: str) -> dict[str, str]:
    return {
        "e": "pv",
        "p": "web",
        "tv": "py-1.1.0",
        "aid": "shop",
        "url": "https://shop.example.com/a",
        **extra,
    }


def self_describing(
    data: dict[str, Any], schema: str = CHECKOUT, contexts: list[Any] | None = None
) -> dict[str, str]:
    parameters = {
        "e": "ue",
        "p": "srv",
        "tv": "py-1.1.0",
        "ue_pr": orjson.dumps(
            {
                "schema": "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",
                "data": {"schema": schema, "data": data},
            }
        ).decode(),
    }
    if contexts is not None:
        parameters["co"] = orjson.dumps(
            {
                "schema": "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1",
                "data": contexts,
            }
        ).decode()
    return parameters


def bad(row: bytes) -> dict[str, Any]:
    document: dict[str, Any] = orjson.loads(row)
    assert document["data"]["processor"]["artifact"] == "furrow-enrich"
    return document


def schema_type(document: dict[str, Any]) -> str:
    return str(document["schema"]).split("/")[1]


def test_a_page_view_is_good_and_the_sdk_reads_it() -> None:
    outputs = enricher().enrich(get(page_view(eid="c6ef3124-b53a-4b13-a233-0088f79dcbcb")), now=NOW)
    assert outputs.bad == []
    (line,) = outputs.good
    event = transform(line)
    assert event["event_id"] == "c6ef3124-b53a-4b13-a233-0088f79dcbcb"
    assert (event["app_id"], event["platform"], event["event"]) == ("shop", "web", "page_view")
    assert event["page_urlhost"] == "shop.example.com"
    assert event["collector_tstamp"] == "2026-11-18T11:06:40.000Z"
    assert event["etl_tstamp"] == "2026-11-23T12:00:00.000Z"
    assert event["v_etl"].startswith("furrow-enrich-")
    assert event["network_userid"] == "nuid-1"


def test_a_valid_self_describing_event_with_an_entity() -> None:
    raw = get(self_describing({"total": 12}, contexts=[{"schema": USER, "data": {"plan": "pro"}}]))
    (line,) = enricher().enrich(raw, now=NOW).good
    event = transform(line)
    assert event["unstruct_event_com_acme_checkout_1"] == {"total": 12}
    assert event["contexts_com_acme_user_1"] == [{"plan": "pro"}]
    assert (event["event_vendor"], event["event_name"], event["event_version"]) == (
        "com.acme",
        "checkout",
        "1-0-0",
    )


def test_a_batch_gives_one_output_per_event() -> None:
    outputs = enricher().enrich(
        post([page_view(), page_view(e="zz"), self_describing({"total": -1})]), now=NOW
    )
    assert len(outputs.good) == 1
    assert sorted(schema_type(bad(row)) for row in outputs.bad) == [
        "schema_violations",
        "tracker_protocol_violations",
    ]


def test_garbage_is_a_collector_payload_format_violation() -> None:
    (row,) = enricher().enrich(b"\x00\x01not thrift", now=NOW).bad
    document = bad(row)
    assert schema_type(document) == "collector_payload_format_violation"
    assert document["data"]["failure"]["loader"] == "thrift"
    assert document["data"]["payload"] == "AAFub3QgdGhyaWZ0"


def test_an_unknown_vendor_is_an_adapter_failure() -> None:
    (row,) = enricher().enrich(get(page_view(), path="/com.acme/v9"), now=NOW).bad
    document = bad(row)
    assert schema_type(document) == "adapter_failures"
    assert (document["data"]["failure"]["vendor"], document["data"]["failure"]["version"]) == (
        "com.acme",
        "v9",
    )
    # Snowplow's row names the request by its adapter's vendor and version, not by its path.
    assert (document["data"]["payload"]["vendor"], document["data"]["payload"]["version"]) == (
        "com.acme",
        "v9",
    )


def test_a_broken_protocol_is_a_tracker_protocol_violation() -> None:
    (row,) = enricher().enrich(get({"p": "web", "tv": "t", "ue_px": "!!"}), now=NOW).bad
    document = bad(row)
    assert schema_type(document) == "tracker_protocol_violations"
    assert [m["field"] for m in document["data"]["failure"]["messages"]] == ["e", "ue_px"]


def test_an_invalid_instance_lists_every_error_with_its_path() -> None:
    raw = get(
        self_describing(
            {"total": -1, "extra": 1}, contexts=[{"schema": USER, "data": {"plan": "gold"}}]
        )
    )
    (row,) = enricher().enrich(raw, now=NOW).bad
    document = bad(row)
    assert schema_type(document) == "schema_violations"
    messages = document["data"]["failure"]["messages"]
    assert [m["schemaKey"] for m in messages] == [CHECKOUT, USER]
    checkout_reports = messages[0]["error"]["dataReports"]
    assert sorted((r["path"], r["keyword"]) for r in checkout_reports) == [
        ("$", "additionalProperties"),
        ("$.total", "minimum"),
    ]
    assert messages[1]["error"]["dataReports"][0]["path"] == "$.plan"
    assert document["data"]["payload"]["raw"]["vendor"] == "com.snowplowanalytics.snowplow"
    assert document["data"]["payload"]["enriched"]["event_id"]


def test_an_unknown_schema_is_a_schema_violation_with_the_lookup_history() -> None:
    (row,) = (
        enricher()
        .enrich(get(self_describing({}, schema="iglu:com.acme/nothing/jsonschema/1-0-0")), now=NOW)
        .bad
    )
    (message,) = bad(row)["data"]["failure"]["messages"]
    assert message["schemaKey"] == "iglu:com.acme/nothing/jsonschema/1-0-0"
    assert message["error"]["error"] == "ResolutionError"
    assert message["error"]["lookupHistory"][0]["repository"] == "test schemas"


class Failing:
    name = "ip_lookups"
    reads_derived_contexts = False

    def apply(self, event: EnrichedEvent, raw: RawEvent) -> list[SelfDescribingJson]:
        raise EnrichmentFailure(self.name, "the database cannot read 203.0.113.9")


class Tagging:
    name = "tagging"
    reads_derived_contexts = False

    def apply(self, event: EnrichedEvent, raw: RawEvent) -> list[SelfDescribingJson]:
        event["etl_tags"] = "tagged"
        return [
            {"schema": "iglu:com.acme/tag/jsonschema/1-0-0", "data": {"ip": raw.payload.ip_address}}
        ]


def test_enrichments_add_fields_and_derived_contexts() -> None:
    (line,) = enricher(enrichments=[Tagging()]).enrich(get(page_view()), now=NOW).good
    event = transform(line)
    assert event["etl_tags"] == "tagged"
    assert event["contexts_com_acme_tag_1"] == [{"ip": "203.0.113.9"}]


def test_a_failing_enrichment_is_an_enrichment_failure() -> None:
    (row,) = enricher(enrichments=[Tagging(), Failing()]).enrich(get(page_view()), now=NOW).bad
    document = bad(row)
    assert schema_type(document) == "enrichment_failures"
    (message,) = document["data"]["failure"]["messages"]
    assert message == {
        "enrichment": {
            "schemaKey": "iglu:com.snowplowanalytics.snowplow/ip_lookups/jsonschema/1-0-0",
            "identifier": "ip_lookups",
        },
        "message": {"error": "the database cannot read 203.0.113.9"},
    }


@pytest.mark.parametrize(
    ("rules", "parameters", "expected"),
    [
        (ValidityRules(required_fields=["user_id"]), page_view(), "user_id is required"),
        (
            ValidityRules(max_device_age_s=86400),
            page_view(dtm="1700000000000"),
            "s before collector_tstamp",
        ),
        (
            ValidityRules(max_device_future_s=60),
            page_view(dtm="1895000000000"),
            "s after collector_tstamp",
        ),
    ],
)
def test_validity_rules_make_bad_rows_that_say_why(
    rules: ValidityRules, parameters: dict[str, str], expected: str
) -> None:
    (row,) = enricher(rules=rules).enrich(get(parameters), now=NOW).bad
    (message,) = bad(row)["data"]["failure"]["messages"]
    # Snowplow's rows name no enrichment for a validation.
    assert message["enrichment"] is None
    assert expected in message["message"]["error"]


def test_exact_duplicates_are_dropped_and_counted() -> None:
    enrich = enricher(deduplicator=Deduplicator(window_s=600, max_events=100))
    raw = get(page_view(eid="c6ef3124-b53a-4b13-a233-0088f79dcbcb"))
    assert len(enrich.enrich(raw, now=NOW).good) == 1
    again = enrich.enrich(raw, now=NOW)
    assert (again.good, again.bad, again.duplicates) == ([], [], 1)
    different = enrich.enrich(
        get(page_view(eid="c6ef3124-b53a-4b13-a233-0088f79dcbcb", page="other")), now=NOW
    )
    assert len(different.good) == 1


def test_an_event_too_large_for_a_record_is_a_size_violation() -> None:
    (row,) = enricher(max_event_bytes=2000).enrich(get(page_view(page="x" * 3000)), now=NOW).bad
    document = bad(row)
    assert schema_type(document) == "size_violation"
    assert document["data"]["failure"]["maximumAllowedSizeBytes"] == 2000


CORE_SCHEMAS = BUILTIN_SCHEMAS
BAD_INPUTS: dict[str, tuple[bytes, dict[str, Any]]] = {
    "collector_payload_format_violation": (b"\x00garbage", {}),
    "adapter_failures": (get(page_view(), path="/com.acme/v9"), {}),
    "tracker_protocol_violations": (get({"p": "web"}), {}),
    "schema_violations": (get(self_describing({"total": -1})), {}),
    "enrichment_failures": (get(page_view()), {"enrichments": [Failing()]}),
    "size_violation": (get(page_view(page="x" * 3000)), {"max_event_bytes": 2000}),
}


@pytest.mark.parametrize("kind", sorted(BAD_INPUTS))
def test_every_bad_row_is_valid_against_its_own_schema(kind: str) -> None:
    raw, options = BAD_INPUTS[kind]
    (row,) = enricher(**options).enrich(raw, now=NOW).bad
    document = orjson.loads(row)
    assert schema_type(document) == kind
    registry_schemas = Resolver(
        [DirectoryRepository(RepositorySettings(name="core", path=CORE_SCHEMAS))]
    )
    assert registry_schemas.validate(document) == []


def test_pii_masks_the_derived_contexts_of_the_enrichments_before_it() -> None:
    masking = Pii(
        PiiParameters.model_validate(
            {
                "pii": [
                    {
                        "json": {
                            "field": "derived_contexts",
                            "schemaCriterion": "iglu:com.acme/tag/jsonschema/1-*-*",
                            "jsonPath": "$.ip",
                            "strategy": "MASK",
                        }
                    }
                ],
                "strategy": {"mask": {"keepLeading": 3, "keepTrailing": 0, "character": "x"}},
            }
        )
    )
    (line,) = enricher(enrichments=[Tagging(), masking]).enrich(get(page_view()), now=NOW).good
    (tag,) = transform(line)["contexts_com_acme_tag_1"]
    assert tag == {"ip": "203xxxxxxxx"}


class FailsOnUser:
    """A validator with a bug: it raises on the user entity's schema."""

    def __init__(self) -> None:
        self._resolver = Resolver([Schemas()])

    def validate(self, instance: dict[str, Any]) -> list[Any]:
        if instance.get("schema") == USER:
            raise KeyError("a bug")
        return self._resolver.validate(instance)


def test_an_unexpected_exception_makes_one_generic_error_for_the_record_and_no_more() -> None:
    user = {"schema": USER, "data": {"plan": "pro"}}
    # The record's first event is good, its second hits the bug: neither is output.
    failing = post([page_view(), self_describing({"total": 1}, contexts=[user])])
    buggy = Enricher(validator=FailsOnUser())
    result = buggy.enrich(get(page_view()), now=NOW)
    buggy.enrich(failing, now=NOW, outputs=result)
    buggy.enrich(post([page_view(), self_describing({"total": -1})]), now=NOW, outputs=result)
    assert len(result.good) == 2
    assert result.bad_kinds == ["generic_error", "schema_violations"]
    document = bad(result.bad[0])
    assert schema_type(document) == "generic_error"
    assert document["data"]["failure"]["errors"] == ["unexpected KeyError: 'a bug'"]
    assert base64.b64decode(document["data"]["payload"]) == failing
    core_schemas = Resolver(
        [DirectoryRepository(RepositorySettings(name="core", path=CORE_SCHEMAS))]
    )
    assert core_schemas.validate(document) == []
