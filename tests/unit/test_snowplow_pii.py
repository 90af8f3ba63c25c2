"""Snowplow's vectors for PII pseudonymisation (PiiPseudonymizerEnrichmentSpec): the event of the
spec's common setup, read by Furrow, then campaign attribution and the PII enrichment with the
spec's rules. The spec builds every strategy with SHA-256 whatever name it gives it, so Furrow is
configured with SHA-256 throughout; the salt is the spec's `pepper123`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from libs.formats.collector_payload import CollectorPayload
from services.enrich.enrichments import campaign_attribution, pii
from services.enrich.model import RawEvent
from services.enrich.protocol import read_event
from tests.unit.snowplow_vectors import Case, cases

SPEC = "enrichments/registry/pii/PiiPseudonymizerEnrichmentSpec.scala"
CONTEXTS = {
    "schema": "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0",
    "data": [
        {
            "schema": "iglu:com.acme/email_sent/jsonschema/1-0-0",
            "data": {"emailAddress": "jim@acme.com", "emailAddress2": "bob@acme.com"},
        },
        {
            "data": {
                "emailAddress": "tim@acme.com",
                "emailAddress2": "tom@acme.com",
                "schema": "iglu:com.acme/email_sent/jsonschema/1-0-0",
                "data": {"emailAddress": "jim@acme.com", "emailAddress2": "bob@acme.com"},
                "someInt": 1,
            },
            "schema": "iglu:com.acme/email_sent/jsonschema/1-1-0",
        },
        {
            "schema": "iglu:com.test/array/jsonschema/1-0-0",
            "data": {"field": ["hello", "world"], "field2": None, "field3": None, "field4": ""},
        },
    ],
}
MAILGUN = {
    "schema": "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",
    "data": {
        "schema": "iglu:com.mailgun/message_clicked/jsonschema/1-0-0",
        "data": {"recipient": "alice@example.com", "ip": "50.56.129.169", "myVar2": "awesome"},
    },
}
PARAMETERS = {
    # The spec sends no p and tv, which Furrow requires (the tracker protocol's required fields).
    "p": "web",
    "tv": "js-0.13.1",
    "e": "se",
    "aid": "ads",
    "uid": "john@acme.com",
    "ip": "70.46.123.145",
    "fp": "its_you_again!",
    "url": "http://foo.bar?utm_term=hello&utm_content=world&msclkid=500&_sp=duid",
    "dnuid": "gfhdgjfgndf",
    "nuid": "kuykyfkfykukfuy",
    "tr_id": "t5465463",
    "ti_id": "6546b56356b354bbv",
    "se_ca": "super category",
    "se_ac": "great action",
    "se_la": "awesome label",
    "se_pr": "good property",
    "duid": "786d1b69-a603-4eb8-9178-fed2a195a1ed",
    "sid": "87857856-a603-4eb8-9178-fed2a195a1ed",
    "co": orjson.dumps(CONTEXTS).decode(),
    "ue_pr": orjson.dumps(MAILGUN).decode(),
}
STRATEGY = {"pseudonymize": {"hashFunction": "SHA-256", "salt": "pepper123"}}


def enriched(rules: list[dict[str, Any]]) -> dict[str, str]:
    payload = CollectorPayload(
        ip_address="127.0.0.1", timestamp_ms=1_500_003_579_000, collector="clj-tomcat", path="/i"
    )
    raw = RawEvent(dict(PARAMETERS), payload)
    reading = read_event(raw, etl_ms=0, etl_version="furrow-test")
    assert reading.violations == [] and reading.atomic_errors == []
    event = reading.event
    fields = {
        "mktMedium": ["utm_medium"],
        "mktSource": ["utm_source"],
        "mktTerm": ["utm_term"],
        "mktContent": ["utm_content"],
        "mktCampaign": ["utm_campaign"],
    }
    campaign_attribution.from_config({"fields": fields}, {}, Path(".")).apply(event, raw)
    pii.from_config({"pii": rules, "strategy": STRATEGY}, {}, Path(".")).apply(event, raw)
    return event


SCALARS = {
    "user_id": "7d8a4beae5bc9d314600667d2f410918f9af265017a6ade99f60a9c8f3aac6e9",
    "user_ipaddress": "dd9720903c89ae891ed5c74bb7a9f2f90f6487927ac99afe73b096ad0287f3f5",
    "user_fingerprint": "27abac60dff12792c6088b8d00ce7f25c86b396b8c3740480cd18e21068ecff4",
    "domain_userid": "e97d86d49b16397e8fd654b32a0ed03cfe3a4d8d867d913620ce08e3ca855d6d",
    "network_userid": "47453d3c4428207d22005463bb3d945b137f9342d445b7114776e88311bbe648",
    "tr_orderid": "5139219b15f3d1ab0c5056296cf5246eeb0b934ee5d1c96cb2027e694005bbce",
    "ti_orderid": "326c0bfc5857f21695406ebd93068341c9f2d975cf00d117479e01e9012e196c",
    "mkt_term": "b62f3a2475ac957009088f9b8ab77ceb7b4ed7c5a6fd920daa204a1953334acb",
    "mkt_clickid": "fae3733fa03cdf57d82e89ac63026afd8782d07ba3c918acb415a4343457785f",
    "mkt_content": "8ad32723b7435cbf535025e519cc94dbf1568e17ced2aeb4b9e7941f6346d7d0",
    "se_category": "f33daec1ed4cb688f4f1762390735fd78f6a06083f855422a7303ed63707c962",
    "se_action": "53f3e1ca4a0dccce4a1b2900a6bcfd21b22a0f444253067e2fe022948a0b3be7",
    "se_label": "b243defc0d3b86333a104fb2b3a2f43371b8d73359c429b9177dfc5bb3840efd",
    "se_property": "eb19004c52cd4557aacfa0b30035160c417c3a6a5fad44b96f03c9e2bebaf0b3",
    "refr_domain_userid": "f3e68fd96eaef0cafc1257ec7132b4b3dbae20b1073155531f909999e5da9b2c",
    "domain_sessionid": "7378a72b0183f456df98453b2ff9ed5685206a67f312edb099dc74aed76e1b34",
}
HASHED_JIM = "72f323d5359eabefc69836369e4cabc6257c43ab6419b05dfb2211d0e44284c6"
HASHED_BOB = "1c6660411341411d5431669699149283d10e070224be4339d52bbc4b007e78c5"
HASHED_TIM = "09e4160b10703767dcb28d834c1905a182af0f828d6d3512dd07d466c283c840"


def rule(field: str, criterion: str, path: str) -> dict[str, Any]:
    return {"json": {"field": field, "schemaCriterion": criterion, "jsonPath": path}}


def email_fields(event: dict[str, str]) -> tuple[Any, ...]:
    """(first.emailAddress, first.emailAddress2, second.emailAddress, second.emailAddress2)."""
    first, second, _ = orjson.loads(event["contexts"])["data"]
    return (
        first["data"]["emailAddress"],
        first["data"]["emailAddress2"],
        second["data"]["emailAddress"],
        second["data"]["emailAddress2"],
    )


def test_e1_scalar_fields() -> None:
    event = enriched([{"pojo": {"field": name}} for name in SCALARS])
    # ip_organization needs MaxMind's ISP test database, which Furrow does not have.
    Case(SPEC, "e1", None, SCALARS).check({name: event.get(name) for name in SCALARS})


E2_RULES = [
    rule("contexts", "iglu:com.acme/email_sent/jsonschema/1-0-*", "$.emailAddress"),
    rule("contexts", "iglu:com.acme/email_sent/jsonschema/1-1-0", "$.data.emailAddress2"),
    rule("contexts", "iglu:com.test/array/jsonschema/1-0-0", "$.field"),
    rule("contexts", "iglu:com.test/array/jsonschema/1-0-0", "$.field2"),
    rule("contexts", "iglu:com.test/array/jsonschema/1-0-0", "$.field3.a"),
    rule("unstruct_event", "iglu:com.mailgun/message_clicked/jsonschema/1-0-0", "$.ip"),
    rule("contexts", "iglu:com.test/array/jsonschema/1-0-0", "$.field4"),
]


def test_e2_json_fields() -> None:
    event = enriched(E2_RULES)
    first, second, third = orjson.loads(event["contexts"])["data"]
    mailgun = orjson.loads(event["unstruct_event"])["data"]["data"]
    actual = {
        "first": first["data"],
        "second": second["data"],
        "third": third["data"],
        "ip": mailgun["ip"],
        "myVar2": mailgun["myVar2"],
        "scalars untouched": (event["user_id"], event["user_ipaddress"], event["user_fingerprint"]),
    }
    Case(
        SPEC,
        "e2",
        None,
        {
            "first": {"emailAddress": HASHED_JIM, "emailAddress2": "bob@acme.com"},
            "second": {
                "emailAddress": "tim@acme.com",
                "emailAddress2": "tom@acme.com",
                "schema": "iglu:com.acme/email_sent/jsonschema/1-0-0",
                "data": {"emailAddress": "jim@acme.com", "emailAddress2": HASHED_BOB},
                "someInt": 1,
            },
            "third": {
                "field": [SCALARS["mkt_term"], SCALARS["mkt_content"]],
                "field2": None,
                "field3": None,
                # An empty string is hashed too.
                "field4": "7a3477dad66e666bd203b834c54b6dfe8b546bdbc5283462ad14052abfb06600",
            },
            "ip": "269c433d0cc00395e3bc5fe7f06c5ad822096a38bec2d8a005367b52c0dfb428",
            "myVar2": "awesome",
            "scalars untouched": ("john@acme.com", "70.46.123.145", "its_you_again!"),
        },
    ).check(actual)


OTHER_JSON = [
    Case(
        SPEC,
        "e3: a path not in the instance",
        [
            rule(
                "contexts",
                "iglu:com.acme/email_sent/jsonschema/1-*-*",
                "$.field.that.does.not.exist.in.this.instance",
            )
        ],
        ("jim@acme.com", "bob@acme.com", "tim@acme.com", "tom@acme.com"),
    ),
    Case(
        SPEC,
        "e5: matched through the schema criterion 1-*-0",
        [rule("contexts", "iglu:com.acme/email_sent/jsonschema/1-*-0", "$.emailAddress")],
        (HASHED_JIM, "bob@acme.com", HASHED_TIM, "tom@acme.com"),
    ),
    Case(
        SPEC,
        "e6: unsupported types silently ignored",
        [rule("contexts", "iglu:com.acme/email_sent/jsonschema/1-*-*", "$.someInt")],
        ("jim@acme.com", "bob@acme.com", "tim@acme.com", "tom@acme.com"),
    ),
]


@pytest.mark.parametrize("case", cases(OTHER_JSON))
def test_json_fields(case: Case) -> None:
    event = enriched(case.given)
    case.check(email_fields(event))
    if "someInt" in case.name:
        assert orjson.loads(event["contexts"])["data"][1]["data"]["someInt"] == 1


UNION = Case(
    SPEC,
    "e4: several fields matched through one JSONPath",
    [
        rule(
            "contexts",
            "iglu:com.acme/email_sent/jsonschema/1-0-*",
            "$.['emailAddress', 'emailAddress2', 'emailAddressNonExistent']",
        )
    ],
    (HASHED_JIM, HASHED_BOB, "tim@acme.com", "tom@acme.com"),
    furrow="<configuration refused>",
    reason="Furrow reads a documented JSONPath subset, without unions of names; a rule per "
    "field gives the same result",
)


def test_json_path_unions() -> None:
    try:
        outcome: Any = email_fields(enriched(UNION.given))
    except ValueError:
        outcome = "<configuration refused>"
    UNION.check(outcome)


def test_e4_with_a_rule_per_field() -> None:
    # The union of e4 written as Furrow reads it gives the spec's expected values.
    rules = [
        rule("contexts", "iglu:com.acme/email_sent/jsonschema/1-0-*", f"$.{name}")
        for name in ("emailAddress", "emailAddress2", "emailAddressNonExistent")
    ]
    assert email_fields(enriched(rules)) == UNION.expected


NO_NEW_FIELDS = Case(
    SPEC,
    "e8: no new fields created",
    [
        rule(
            "contexts",
            "iglu:com.acme/email_sent/jsonschema/1-0-0",
            "$.['emailAddress', 'nonExistentEmailAddress']",
        )
    ],
    {"emailAddress": HASHED_JIM, "emailAddress2": "bob@acme.com"},
    furrow="<configuration refused>",
    reason=UNION.reason,
)


def test_no_new_fields_through_a_union() -> None:
    try:
        event = enriched(NO_NEW_FIELDS.given)
        outcome: Any = orjson.loads(event["contexts"])["data"][0]["data"]
    except ValueError:
        outcome = "<configuration refused>"
    NO_NEW_FIELDS.check(outcome)


def test_e8_with_a_rule_per_field_creates_no_field() -> None:
    rules = [
        rule("contexts", "iglu:com.acme/email_sent/jsonschema/1-0-0", f"$.{name}")
        for name in ("emailAddress", "nonExistentEmailAddress")
    ]
    first = orjson.loads(enriched(rules)["contexts"])["data"][0]["data"]
    assert first == NO_NEW_FIELDS.expected


EMIT_EVENT = Case(
    SPEC,
    "e7: a pii_transformation event",
    {"emitEvent": True},
    "<pii_transformation event>",
    furrow="<configuration refused>",
    reason="Furrow emits no pii_transformation event: the original values would travel with the "
    "masked ones, which defeats the masking for most uses; a configuration asking for it is "
    "refused at start rather than silently ignored",
)


def test_emit_event_is_refused() -> None:
    try:
        pii.from_config(
            {"pii": [{"pojo": {"field": "user_id"}}], "strategy": STRATEGY},
            EMIT_EVENT.given,
            Path("."),
        )
        outcome = "<pii_transformation event>"
    except ValueError:
        outcome = "<configuration refused>"
    EMIT_EVENT.check(outcome)


def all_cases() -> list[Case]:
    return [*OTHER_JSON, UNION, NO_NEW_FIELDS, EMIT_EVENT]
