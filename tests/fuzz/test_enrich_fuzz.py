"""The enricher's core under arbitrary raw records: it never raises, every event of a request
becomes exactly one good event or one bad row (a request its adapter cannot read, and a record
that is no CollectorPayload, exactly one bad row), and every bad row is valid against its schema."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from iglu_registry.bootstrap import CORE_SCHEMAS
from libs.formats.collector_payload import CollectorPayload, CollectorPayloadError, decode, encode
from libs.formats.enriched import to_json
from libs.formats.iglu import SchemaKey
from libs.iglu_client import DirectoryRepository, RepositorySettings, Resolver
from services.enrich.adapters import adapt
from services.enrich.core import Enricher
from services.enrich.enrichments import load_enrichments
from tests.fuzz.bad_rows import bad_row_type, valid_bad_row
from tests.fuzz.budget import FUZZ

pytestmark = pytest.mark.fuzz

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ENRICHMENTS_DIR = Path(__file__).resolve().parents[2] / "config" / "enrichments"
TP2 = "/com.snowplowanalytics.snowplow/tp2"
IGLU_WEBHOOK = "/com.snowplowanalytics.iglu/v1"
TELEMETRY = "/v1/telemetry"
PAYLOAD_DATA = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4"
UNSTRUCT = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"
CONTEXTS = "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1"
CHECKOUT = "iglu:com.acme/checkout/jsonschema/1-0-0"
PATHS = ["/i", "/ice.png", TP2, IGLU_WEBHOOK, TELEMETRY, "/r/tp2", "/com.acme/v9", ""]

ACME_SCHEMAS = {
    CHECKOUT: {
        "self": {
            "vendor": "com.acme",
            "name": "checkout",
            "format": "jsonschema",
            "version": "1-0-0",
        },
        "type": "object",
        "properties": {"total": {"type": "number", "minimum": 0}},
        "required": ["total"],
        "additionalProperties": False,
    }
}


class AcmeSchemas:
    settings = RepositorySettings(name="acme schemas", url="http://acme.test")

    def fetch(self, key: SchemaKey, *, fresh: bool = False) -> dict[str, Any] | None:
        return ACME_SCHEMAS.get(key.uri)


RESOLVER = Resolver(
    [DirectoryRepository(RepositorySettings(name="core", path=CORE_SCHEMAS)), AcmeSchemas()]
)
# The default enrichments of `make run`, so that they too see every input.
ENRICHER = Enricher(validator=RESOLVER, enrichments=load_enrichments(ENRICHMENTS_DIR))


def check(instance: dict[str, Any]) -> list[str]:
    return [issue.message for issue in RESOLVER.validate(instance)]


def payload(path: str, **fields: Any) -> CollectorPayload:
    return CollectorPayload(
        ip_address=fields.pop("ip_address", "203.0.113.9"),
        timestamp_ms=fields.pop("timestamp_ms", 1_795_000_000_000),
        collector="furrow-fuzz",
        path=path,
        user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0",
        headers=("Cookie: sp=abc; _ga=1", "Referer: https://shop.example.com/"),
        **fields,
    )


def self_describing(schema: str, data: Any) -> str:
    return orjson.dumps({"schema": schema, "data": data}).decode()


PAGE_VIEW = {"e": "pv", "p": "web", "tv": "js-3", "url": "https://shop.example.com/a?utm_source=x"}
CHECKOUT_EVENT = {
    "e": "ue",
    "p": "web",
    "tv": "js-3",
    "ue_pr": self_describing(UNSTRUCT, {"schema": CHECKOUT, "data": {"total": 3}}),
    "co": self_describing(CONTEXTS, [{"schema": CHECKOUT, "data": {"total": 1}}]),
}
# Real requests of every adapter, the seeds that are mutated byte by byte.
VALID_RECORDS = [
    encode(payload("/i", querystring=urlencode(PAGE_VIEW))),
    encode(
        payload(
            TP2,
            body=orjson.dumps({"schema": PAYLOAD_DATA, "data": [PAGE_VIEW, CHECKOUT_EVENT]}),
            content_type="application/json",
        )
    ),
    encode(payload(IGLU_WEBHOOK, querystring=f"schema={CHECKOUT}&total=3")),
    encode(payload("/r/tp2", querystring="u=https%3A%2F%2Fshop.example.com%2F")),
    encode(
        payload(
            TELEMETRY,
            body=orjson.dumps({"id": "b", "ver": "3.0", "events": [{"eid": "START", "mid": "m"}]}),
            content_type="application/json",
        )
    ),
]


def outputs_of(raw: bytes) -> tuple[list[str], list[dict[str, Any]]]:
    """The good events and the (checked) bad rows the core makes of `raw`."""
    outputs = ENRICHER.enrich(raw, now=NOW)
    assert outputs.duplicates == 0
    for line in outputs.good:
        assert to_json(line)["event_id"]
    return outputs.good, [valid_bad_row(row) for row in outputs.bad]


def assert_accounted(raw: bytes) -> None:
    """One output per event, plus one bad row per request-level problem."""
    good, bad = outputs_of(raw)
    try:
        collector_payload = decode(raw)
    except CollectorPayloadError:
        assert good == []
        assert [bad_row_type(row) for row in bad] == ["collector_payload_format_violation"]
        return
    adapted = adapt(collector_payload, check, telemetry_vendor=ENRICHER.telemetry_vendor)
    request_problems = bool(adapted.adapter_failures) + bool(adapted.protocol_violations)
    assert len(good) + len(bad) == len(adapted.events) + request_problems
    assert good or bad, f"{collector_payload} became no output at all"


@FUZZ
@given(raw=st.binary(max_size=400))
def test_arbitrary_bytes(raw: bytes) -> None:
    assert_accounted(raw)


@st.composite
def mutated_records(draw: st.DrawFn) -> bytes:
    record = bytearray(draw(st.sampled_from(VALID_RECORDS)))
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, len(record) - 1))
        record[position] = draw(st.integers(0, 255))
    end = draw(st.one_of(st.just(len(record)), st.integers(0, len(record))))
    return bytes(record[:end])


@FUZZ
@given(raw=mutated_records())
def test_mutated_collector_payloads(raw: bytes) -> None:
    assert_accounted(raw)


# Tracker parameters with values that are valid, wrong or junk; bodies for every adapter.
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats()
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)
parameter_values = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["pv", "ue", "se", "pp", "tr", "web", "1795000000000", "-1", "1e400", "x"]),
    st.builds(self_describing, st.sampled_from([UNSTRUCT, CONTEXTS, CHECKOUT, "x"]), json_values),
)
parameters = st.dictionaries(
    st.sampled_from(
        [
            "e",
            "p",
            "tv",
            "eid",
            "url",
            "refr",
            "ue_pr",
            "ue_px",
            "co",
            "cx",
            "dtm",
            "stm",
            "ttm",
            "aid",
            "uid",
            "res",
            "vp",
            "se_va",
            "tr_tt",
            "ip",
            "ua",
            "nuid",
            "schema",
            "u",
        ]
    ),
    parameter_values,
    max_size=8,
)
# Valid events with a few fields overwritten by anything, so that schemas and enrichments are
# reached as often as the protocol's checks.
STRUCT_EVENT = {"e": "se", "p": "mob", "tv": "js-3", "se_ca": "cart", "se_ac": "add"}
plausible_events = st.builds(
    lambda base, extra: {**base, **extra},
    st.sampled_from([PAGE_VIEW, CHECKOUT_EVENT, STRUCT_EVENT]),
    st.dictionaries(
        st.sampled_from(
            [
                "url",
                "refr",
                "dtm",
                "stm",
                "ttm",
                "aid",
                "uid",
                "res",
                "vp",
                "se_va",
                "ip",
                "ua",
                "nuid",
                "co",
                "eid",
                "tr_tt",
                "page",
                "duid",
                "lang",
                "tz",
            ]
        ),
        parameter_values,
        max_size=3,
    ),
)
query_strings = st.one_of(
    plausible_events.map(urlencode),
    st.builds(lambda schema, total: f"schema={schema}&total={total}", st.just(CHECKOUT), st.text()),
    parameters.map(urlencode),
    st.text(max_size=60),
    st.builds(
        lambda base, junk: base + "&" + junk, parameters.map(urlencode), st.text(max_size=20)
    ),
)
bodies = st.one_of(
    st.none(),
    st.binary(max_size=200),
    st.lists(st.one_of(plausible_events, parameters), max_size=4).map(
        lambda events: orjson.dumps({"schema": PAYLOAD_DATA, "data": events})
    ),
    st.builds(
        lambda events: orjson.dumps({"id": "b", "ver": "3", "events": events}),
        st.lists(
            st.one_of(json_values, st.fixed_dictionaries({"eid": st.text(max_size=8)})), max_size=3
        ),
    ),
    json_values.map(orjson.dumps),
    parameters.map(lambda values: urlencode(values).encode()),
)
content_types = st.one_of(
    st.none(),
    st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain"]),
    st.text(max_size=20),
)


@FUZZ
@given(
    path=st.sampled_from(PATHS),
    querystring=st.one_of(st.none(), query_strings),
    body=bodies,
    content_type=content_types,
    ip_address=st.sampled_from(["203.0.113.9", "2001:db8::1", "unknown", "", "999.1.1.1"]),
    timestamp_ms=st.one_of(st.just(1_795_000_000_000), st.integers(-(2**63), 2**63 - 1)),
)
def test_arbitrary_requests_for_every_adapter(
    path: str,
    querystring: str | None,
    body: bytes | None,
    content_type: str | None,
    ip_address: str,
    timestamp_ms: int,
) -> None:
    record = payload(
        path,
        querystring=querystring,
        body=body,
        content_type=content_type,
        ip_address=ip_address,
        timestamp_ms=timestamp_ms,
    )
    assert_accounted(encode(record))


@FUZZ
@given(
    events=st.lists(plausible_events, min_size=1, max_size=4),
    as_batch=st.booleans(),
    user_agent=st.one_of(st.none(), st.text(max_size=40)),
    ip_address=st.sampled_from(["203.0.113.9", "2001:db8::1", "81.2.69.160", "unknown", "x"]),
)
def test_tracker_events_reach_the_enrichments(
    events: list[dict[str, str]], as_batch: bool, user_agent: str | None, ip_address: str
) -> None:
    if as_batch:
        body = orjson.dumps({"schema": PAYLOAD_DATA, "data": events})
        record = payload(TP2, body=body, content_type="application/json", ip_address=ip_address)
    else:
        record = payload("/i", querystring=urlencode(events[0]), ip_address=ip_address)
    record = dataclasses.replace(record, user_agent=user_agent)
    assert_accounted(encode(record))
