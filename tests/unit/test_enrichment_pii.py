from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from services.enrich.enrichments.json_path import locate, parse_json_path
from services.enrich.enrichments.pii import MASKED_VALUE_SCHEMA, Pii, PiiParameters, from_config
from services.enrich.model import SelfDescribingJson
from tests.unit.enrichment_inputs import assert_valid, raw_event

EMAIL = "jon.doe@example.com"
EMAIL_SHA256 = "9dcb505aaf4dfd61173ec9dc0423bc7e8e4960b451940aeb07affdb00ed64eda"
EMAIL_MD5 = "8504125638332df7dfd8c6b7b592adb2"
PHONE_SHA256 = "b33b6e98fc775ebf2e758baf15db48211c8b4bba2e46b327075c10051d0c58be"
STRATEGY = {
    "pseudonymize": {"hashFunction": "SHA-256", "salt": "salt"},
    "mask": {"keepLeading": 2, "keepTrailing": 4, "character": "#"},
}


def pii(fields: list[dict[str, Any]], strategy: dict[str, Any] | None = None) -> Pii:
    return Pii(PiiParameters.model_validate({"pii": fields, "strategy": strategy or STRATEGY}))


def masked(where: dict[str, str], value: str, pseudonym: str) -> SelfDescribingJson:
    return {"schema": MASKED_VALUE_SCHEMA, "data": {**where, "masked": value, "hash": pseudonym}}


# The five strategies on an atomic field.
@pytest.mark.parametrize(
    ("strategy", "expected_field", "expected_contexts"),
    [
        ("NONE", None, []),
        ("FULL", EMAIL, []),
        ("HASH", EMAIL_SHA256, []),
        ("MASK", "jo#############.com", []),
        (
            "HASH-MASK",
            EMAIL_SHA256,
            [masked({"field": "user_id"}, "jo#############.com", EMAIL_SHA256)],
        ),
    ],
)
def test_the_five_strategies_on_an_atomic_field(
    strategy: str, expected_field: str | None, expected_contexts: list[SelfDescribingJson]
) -> None:
    enrichment = pii([{"pojo": {"field": "user_id", "strategy": strategy}}])
    event = {"user_id": EMAIL, "app_id": "shop"}
    contexts = enrichment.apply(event, raw_event())
    assert event == {"app_id": "shop", **({"user_id": expected_field} if expected_field else {})}
    assert contexts == expected_contexts
    assert_valid(contexts)


UNSTRUCT = {
    "schema": "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",
    "data": {
        "schema": "iglu:com.acme/signup/jsonschema/1-0-2",
        "data": {"email": EMAIL, "plan": "pro", "age": 42},
    },
}


# The five strategies on a member of a self-describing event.
@pytest.mark.parametrize(
    ("strategy", "expected_data", "expected_contexts"),
    [
        ("NONE", {"plan": "pro", "age": 42}, []),
        ("FULL", {"email": EMAIL, "plan": "pro", "age": 42}, []),
        ("HASH", {"email": EMAIL_SHA256, "plan": "pro", "age": 42}, []),
        ("MASK", {"email": "jo#############.com", "plan": "pro", "age": 42}, []),
        (
            "HASH-MASK",
            {"email": EMAIL_SHA256, "plan": "pro", "age": 42},
            [
                masked(
                    {
                        "field": "unstruct_event",
                        "schema": "iglu:com.acme/signup/jsonschema/1-0-2",
                        "jsonPath": "$.email",
                    },
                    "jo#############.com",
                    EMAIL_SHA256,
                )
            ],
        ),
    ],
)
def test_the_five_strategies_on_a_self_describing_event(
    strategy: str, expected_data: dict[str, Any], expected_contexts: list[SelfDescribingJson]
) -> None:
    enrichment = pii(
        [
            {
                "json": {
                    "field": "unstruct_event",
                    "schemaCriterion": "iglu:com.acme/signup/jsonschema/1-*-*",
                    "jsonPath": "$.email",
                    "strategy": strategy,
                }
            }
        ]
    )
    event = {"unstruct_event": orjson.dumps(UNSTRUCT).decode()}
    contexts = enrichment.apply(event, raw_event())
    assert orjson.loads(event["unstruct_event"])["data"]["data"] == expected_data
    assert contexts == expected_contexts
    assert_valid(contexts)


def contexts_field(*entities: tuple[str, Any]) -> str:
    return orjson.dumps(
        {
            "schema": "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1",
            "data": [{"schema": schema, "data": data} for schema, data in entities],
        }
    ).decode()


@pytest.mark.parametrize(
    ("criterion", "path", "expected"),
    [
        # Only entities whose schema matches the criterion.
        (
            "iglu:com.acme/user/jsonschema/1-*-*",
            "$.phone",
            [PHONE_SHA256, "+1 555", "+44 20 7946 0000"],
        ),
        (
            "iglu:com.acme/user/jsonschema/1-0-*",
            "$.phone",
            [PHONE_SHA256, "+1 555", "+44 20 7946 0000"],
        ),
        (
            "iglu:com.acme/user/jsonschema/1-1-0",
            "$.phone",
            ["+44 20 7946 0000", "+1 555", "+44 20 7946 0000"],
        ),
        ("iglu:com.acme/user/jsonschema/*-*-*", "$.phone", [PHONE_SHA256, "+1 555", PHONE_SHA256]),
        (
            "iglu:com.acme/user/jsonschema/2-*-*",
            "$['phone']",
            ["+44 20 7946 0000", "+1 555", PHONE_SHA256],
        ),
        (
            "iglu:com.acme/other/jsonschema/1-*-*",
            "$.phone",
            ["+44 20 7946 0000", "+1 555", "+44 20 7946 0000"],
        ),
        (
            "iglu:com.acme/user/jsonschema/1-*-*",
            "$.missing",
            ["+44 20 7946 0000", "+1 555", "+44 20 7946 0000"],
        ),
    ],
)
def test_json_fields_only_in_the_schemas_named(
    criterion: str, path: str, expected: list[str]
) -> None:
    enrichment = pii(
        [{"json": {"field": "contexts", "schemaCriterion": criterion, "jsonPath": path}}]
    )
    event = {
        "contexts": contexts_field(
            ("iglu:com.acme/user/jsonschema/1-0-0", {"phone": "+44 20 7946 0000"}),
            ("iglu:com.acme/page/jsonschema/1-0-0", {"phone": "+1 555"}),
            ("iglu:com.acme/user/jsonschema/2-0-0", {"phone": "+44 20 7946 0000"}),
        )
    }
    enrichment.apply(event, raw_event())
    assert [
        entity["data"]["phone"] for entity in orjson.loads(event["contexts"])["data"]
    ] == expected


def test_an_event_whose_json_holds_no_schema_named_is_left_byte_for_byte() -> None:
    enrichment = pii(
        [
            {
                "json": {
                    "field": "contexts",
                    "schemaCriterion": "iglu:com.acme/user/jsonschema/1-*-*",
                    "jsonPath": "$.a",
                }
            }
        ]
    )
    text = '{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1", "data":[]}'
    event = {"contexts": text, "derived_contexts": "not json"}
    enrichment.apply(event, raw_event())
    assert event == {"contexts": text, "derived_contexts": "not json"}


DOCUMENT = {
    "email": "a@b.test",
    "emails": ["x@y.test", "z@w.test", 7],
    "profile": {"email": "p@q.test", "nested": [{"email": "n@m.test"}]},
    "count": 3,
}


@pytest.mark.parametrize(
    ("path", "found"),
    [
        ("$.email", ["a@b.test"]),
        ("$['email']", ["a@b.test"]),
        ('$["profile"].email', ["p@q.test"]),
        ("$.emails[1]", ["z@w.test"]),
        ("$.emails[5]", []),
        ("$.emails[*]", ["x@y.test", "z@w.test", 7]),
        ("$.profile.*", ["p@q.test", [{"email": "n@m.test"}]]),
        ("$..email", ["a@b.test", "p@q.test", "n@m.test"]),
        ("$.profile.nested[0].email", ["n@m.test"]),
        ("$.count.x", []),
    ],
)
def test_json_path_subset(path: str, found: list[Any]) -> None:
    document = {"data": DOCUMENT}
    assert [
        container[key] for container, key in locate(document, "data", parse_json_path(path))
    ] == found


@pytest.mark.parametrize("path", ["email", "$", "$.a[?(@.b)]", "$.a[-1]", "$[1:2]", "$.", "$.a b"])
def test_json_paths_outside_the_subset_are_refused(path: str) -> None:
    with pytest.raises(ValueError, match="JSON path"):
        parse_json_path(path)


def test_none_removes_array_items_and_only_strings_are_hashed() -> None:
    enrichment = pii(
        [
            {
                "json": {
                    "field": "unstruct_event",
                    "schemaCriterion": "iglu:com.acme/signup/jsonschema/1-*-*",
                    "jsonPath": "$.emails[*]",
                    "strategy": "NONE",
                }
            },
            {
                "json": {
                    "field": "unstruct_event",
                    "schemaCriterion": "iglu:com.acme/signup/jsonschema/1-*-*",
                    "jsonPath": "$..email",
                }
            },
            {
                "json": {
                    "field": "unstruct_event",
                    "schemaCriterion": "iglu:com.acme/signup/jsonschema/1-*-*",
                    "jsonPath": "$.count",
                }
            },
        ]
    )
    unstruct = {
        **UNSTRUCT,
        "data": {"schema": "iglu:com.acme/signup/jsonschema/1-0-0", "data": DOCUMENT},
    }
    event = {"unstruct_event": orjson.dumps(unstruct).decode()}
    enrichment.apply(event, raw_event())
    assert orjson.loads(event["unstruct_event"])["data"]["data"] == {
        "email": "426bc98e060a730dd6c97dfe1eccc02040abe54afaad348431f3207b677e8303",
        "emails": [],
        "profile": {
            "email": pii([], STRATEGY).hash("p@q.test"),
            "nested": [{"email": pii([], STRATEGY).hash("n@m.test")}],
        },
        "count": 3,
    }


@pytest.mark.parametrize(
    ("mask", "value", "expected"),
    [
        ({"keepLeading": 1, "keepTrailing": 1}, "secret", "s****t"),
        ({"keepLeading": 0, "keepTrailing": 4}, "4111111111111111", "************1111"),
        ({"keepLeading": 3, "keepTrailing": 0, "character": "x"}, "203.0.113.7", "203xxxxxxxx"),
        ({"keepLeading": 2, "keepTrailing": 2}, "abcd", "****"),
        ({"keepLeading": 2, "keepTrailing": 2}, "abcde", "ab*de"),
        ({}, "ab", "**"),
    ],
)
def test_mask_keeps_leading_and_trailing_characters(
    mask: dict[str, Any], value: str, expected: str
) -> None:
    enrichment = pii([{"pojo": {"field": "user_id", "strategy": "MASK"}}], {"mask": mask})
    assert enrichment.mask(value) == expected


def test_snowplow_configuration_hashes_every_field_with_its_hash_function() -> None:
    # A pii_enrichment_config 2-0-0 `parameters` as Snowplow documents it: no Furrow extension.
    enrichment = from_config(
        {
            "pii": [{"pojo": {"field": "user_id"}}, {"pojo": {"field": "domain_userid"}}],
            "strategy": {"pseudonymize": {"hashFunction": "MD5", "salt": "salt"}},
        },
        {"emitEvent": False},
        None,  # type: ignore[arg-type]
    )
    event = {"user_id": EMAIL, "domain_userid": "d-123", "network_userid": "n"}
    assert enrichment.apply(event, raw_event()) == []
    assert event["user_id"] == EMAIL_MD5
    assert event["domain_userid"] != "d-123" and event["network_userid"] == "n"


def test_default_strategy_applies_to_fields_naming_none() -> None:
    enrichment = pii(
        [
            {"pojo": {"field": "user_ipaddress"}},
            {"pojo": {"field": "geo_latitude", "strategy": "NONE"}},
            {"pojo": {"field": "tr_city"}},
            {"pojo": {"field": "user_fingerprint", "strategy": "HASH"}},
        ],
        {**STRATEGY, "default": "MASK"},
    )
    event = {
        "user_ipaddress": "203.0.113.7",
        "geo_latitude": "48.1",
        "tr_city": "Munich",
        "user_fingerprint": "",
    }
    enrichment.apply(event, raw_event())
    # Munich has 6 characters: keeping 2 + 4 would hide nothing, so all are masked.
    assert event == {"user_ipaddress": "20#####13.7", "tr_city": "######", "user_fingerprint": ""}


@pytest.mark.parametrize(
    ("headers", "expected"),
    [(("SP-Anonymous: *",), EMAIL_SHA256), (("Sp-Anonymous: *",), EMAIL_SHA256), ((), EMAIL)],
)
def test_anonymous_only_masks_only_anonymous_requests(
    headers: tuple[str, ...], expected: str
) -> None:
    enrichment = from_config(
        {"pii": [{"pojo": {"field": "user_id"}}], "strategy": STRATEGY},
        {"emitEvent": False, "anonymousOnly": True},
        None,  # type: ignore[arg-type]
    )
    event = {"user_id": EMAIL}
    enrichment.apply(event, raw_event(headers=headers))
    assert event == {"user_id": expected}


@pytest.mark.parametrize(
    ("parameters", "extras", "message"),
    [
        ({"pii": [{"pojo": {"field": "user_id"}}], "strategy": {}}, {}, "pseudonymize"),
        (
            {
                "pii": [{"pojo": {"field": "user_id", "strategy": "HASH-MASK"}}],
                "strategy": {"default": "MASK"},
            },
            {},
            "pseudonymize",
        ),
        (
            {"pii": [{"pojo": {"field": "event_id"}}], "strategy": STRATEGY},
            {},
            "cannot be masked|not an enriched event field",
        ),
        (
            {
                "pii": [{"pojo": {"field": "collector_tstamp", "strategy": "NONE"}}],
                "strategy": STRATEGY,
            },
            {},
            "not an enriched event field",
        ),
        (
            {"pii": [{"pojo": {"field": "geo_latitude"}}], "strategy": STRATEGY},
            {},
            "only NONE or FULL",
        ),
        (
            {"pii": [{"pojo": {"field": "user_id", "strategy": "SHRED"}}], "strategy": STRATEGY},
            {},
            "strategy",
        ),
        (
            {
                "pii": [
                    {
                        "pojo": {"field": "user_id"},
                        "json": {
                            "field": "contexts",
                            "schemaCriterion": "iglu:a/b/jsonschema/1-*-*",
                            "jsonPath": "$.a",
                        },
                    }
                ],
                "strategy": STRATEGY,
            },
            {},
            "exactly one",
        ),
        (
            {
                "pii": [
                    {
                        "json": {
                            "field": "contexts",
                            "schemaCriterion": "iglu:a/b/jsonschema/1-0",
                            "jsonPath": "$.a",
                        }
                    }
                ],
                "strategy": STRATEGY,
            },
            {},
            "schema criterion",
        ),
        (
            {
                "pii": [
                    {
                        "json": {
                            "field": "contexts",
                            "schemaCriterion": "iglu:a/b/jsonschema/1-*-*",
                            "jsonPath": "$..[0]",
                        }
                    }
                ],
                "strategy": STRATEGY,
            },
            {},
            "JSON path",
        ),
        (
            {
                "pii": [
                    {
                        "json": {
                            "field": "page_url",
                            "schemaCriterion": "iglu:a/b/jsonschema/1-*-*",
                            "jsonPath": "$.a",
                        }
                    }
                ],
                "strategy": STRATEGY,
            },
            {},
            "field",
        ),
        (
            {"pii": [], "strategy": {"pseudonymize": {"hashFunction": "MD2", "salt": "s"}}},
            {},
            "hash_function|hashFunction",
        ),
        ({"pii": [], "strategy": {"mask": {"keepLeading": -1}}}, {}, "keepLeading|keep_leading"),
        ({"pii": [], "strategy": STRATEGY}, {"emitEvent": True}, "emitEvent"),
        ({"pii": [], "strategy": STRATEGY}, {"anonymousOnly": "yes"}, "anonymousOnly"),
    ],
)
def test_bad_configurations_are_refused(
    parameters: dict[str, Any], extras: dict[str, Any], message: str
) -> None:
    with pytest.raises((ValueError, ValidationError), match=message):
        from_config(parameters, extras, None)  # type: ignore[arg-type]
