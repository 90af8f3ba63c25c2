"""Linting self-describing schemas and validating instances (iglu_registry/lint.py)."""

from typing import Any

import pytest

from iglu_registry.lint import (
    Level,
    Problem,
    errors,
    lint,
    supersedes,
    too_deep,
    validate_instance,
)
from libs.formats.iglu import SELF_DESCRIBING_SCHEMA, SchemaKey, SchemaVer

KEY = SchemaKey.of("com.acme", "event", "jsonschema", "1-0-1")


def schema(**body: Any) -> dict[str, Any]:
    return {"$schema": SELF_DESCRIBING_SCHEMA, "self": KEY.self_object(), **body}


def pointers(problems: list[Problem]) -> list[str]:
    return [problem.pointer for problem in problems]


def test_a_good_schema_has_no_problems() -> None:
    good = schema(
        type="object",
        properties={
            "name": {"type": "string", "maxLength": 10, "pattern": "^[a-z]+$"},
            "tags": {"type": "array", "items": {"$ref": "#/definitions/tag"}},
            "a/b": {"type": ["string", "null"]},
        },
        patternProperties={"^x-": {}},
        definitions={"tag": {"enum": ["a", "b"]}},
        required=["name"],
        additionalProperties=False,
        **{"$supersedes": ["1-0-0"]},
    )
    assert errors(lint(good, KEY)) == []
    assert supersedes(good) == [SchemaVer(1, 0, 0)]


@pytest.mark.parametrize(
    ("body", "where", "message"),
    [
        ({"properties": {"a": {"maxLenght": 1}}}, "/properties/a/maxLenght", "unknown keyword"),
        ({"properties": {"a": {"type": "strin"}}}, "/properties/a/type", "is not one of"),
        ({"properties": {"a": {"minLength": -1}}}, "/properties/a/minLength", "less than"),
        ({"properties": {"a": {"minLength": "3"}}}, "/properties/a/minLength", "not of type"),
        ({"required": []}, "/required", "should be non-empty"),
        ({"properties": []}, "/properties", "not of type 'object'"),
        ({"items": [{"$ref": "#/definitions/x"}]}, "/items/0/$ref", "points at nothing"),
        ({"not": {"$ref": "http://example.com/s.json"}}, "/not/$ref", "not a local reference"),
        ({"$ref": "iglu:com.acme/x/jsonschema/1-0-0"}, "/$ref", "not a local reference"),
        ({"pattern": "(unclosed"}, "/pattern", "invalid regular expression"),
        ({"patternProperties": {"[": {}}}, "/patternProperties/[", "invalid regular expression"),
        ({"definitions": {"a": {"self": {}}}}, "/definitions/a/self", "unknown keyword"),
        ({"$supersedes": "1-0-0"}, "/$supersedes", "array of SchemaVer"),
        ({"$supersedes": ["1-0-1"]}, "/$supersedes/0", "not lower than"),
        ({"$supersedes": ["one"]}, "/$supersedes/0", "invalid SchemaVer"),
    ],
)
def test_problems_are_found_where_they_are(body: dict[str, Any], where: str, message: str) -> None:
    problems = lint(schema(**body), KEY)
    assert [p for p in problems if p.pointer == where and message in p.message], problems


def test_every_problem_is_listed_not_only_the_first() -> None:
    problems = lint(
        schema(properties={"a": {"type": 1}, "b": {"minimum": "0"}, "c": {"$ref": "#/nope"}}), KEY
    )
    assert pointers(errors(problems)) == [
        "/properties/a/type",
        "/properties/b/minimum",
        "/properties/c/$ref",
    ]


@pytest.mark.parametrize(
    ("document", "where", "message"),
    [
        ([], "", "must be a JSON object, not an array"),
        ("schema", "", "not a string"),
        (None, "", "not null"),
        ({"self": KEY.self_object()}, "/$schema", "must be"),
        ({"$schema": SELF_DESCRIBING_SCHEMA}, "/self", "missing"),
        ({"$schema": SELF_DESCRIBING_SCHEMA, "self": {"vendor": "v"}}, "/self", "self.name"),
    ],
)
def test_not_self_describing(document: object, where: str, message: str) -> None:
    problems = lint(document)
    assert problems[0].pointer == where
    assert message.replace("not a string", "a string") in problems[0].message


def test_self_must_be_the_key_the_url_names() -> None:
    other = SchemaKey.of("com.acme", "event", "jsonschema", "1-0-0")
    (problem,) = errors(lint(schema(), other))
    assert problem == Problem(
        "/self",
        "says iglu:com.acme/event/jsonschema/1-0-1 but the URL names "
        "iglu:com.acme/event/jsonschema/1-0-0",
    )


def test_deep_nesting_is_refused_before_recursion_can_fail() -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(5000):
        node["not"] = {}
        node = node["not"]
    assert too_deep(deep)
    assert "nested more than" in lint(schema(**deep))[0].message
    assert not too_deep(schema(properties={"a": {"items": {"type": "string"}}}))


def test_instances_are_validated_with_pointers_to_the_failures() -> None:
    stored = schema(
        type="object",
        properties={
            "n": {"type": "integer"},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        required=["n"],
        **{"$supersedes": ["1-0-0"]},
    )
    assert validate_instance(stored, {"n": 1, "tags": ["a"]}) == []
    assert validate_instance(stored, {"n": "1", "tags": ["a", 2]}) == [
        Problem("/n", "'1' is not of type 'integer'"),
        Problem("/tags/1", "2 is not of type 'string'"),
    ]
    assert validate_instance(stored, {}) == [Problem("", "'n' is a required property")]


def test_a_reference_that_leaves_the_document_is_a_problem_not_a_crash() -> None:
    stored = {"properties": {"a": {"id": "http://elsewhere/", "$ref": "#/definitions/x"}}}
    (problem,) = validate_instance(stored, {"a": 1})
    assert "cannot be applied" in problem.message


# -- warnings, as igluctl gives them: they do not refuse a schema ---------------------------------


def test_unknown_keywords_and_missing_descriptions_are_warnings() -> None:
    problems = lint(
        schema(
            description="An event",
            type="object",
            properties={
                "a": {"type": "string", "examples": ["x"], "description": "A"},
                "b": {"type": "integer"},
            },
            examples=[{"a": "x"}],
        ),
        KEY,
    )
    assert errors(problems) == []
    assert sorted((p.pointer, p.message, p.level) for p in problems) == [
        ("/examples", "unknown keyword", Level.WARNING),
        ("/properties/a/examples", "unknown keyword", Level.WARNING),
        ("/properties/b", "no description", Level.WARNING),
    ]
    assert problems[0].to_json()["level"] == "warning"


@pytest.mark.parametrize(
    "reference",
    [
        "http://json-schema.org/draft-04/schema#",
        "https://json-schema.org/draft-04/schema",
        "http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#",
    ],
)
def test_a_reference_to_a_meta_schema_is_allowed_and_applied(reference: str) -> None:
    document = schema(description="A schema of schemas", allOf=[{"$ref": reference}])
    assert errors(lint(document, KEY)) == []
    assert validate_instance(document, {"self": KEY.self_object(), "type": "object"}) == []
    assert pointers(validate_instance(document, {"type": "objekt"})) != []


def test_any_other_remote_reference_is_an_error() -> None:
    (problem,) = errors(lint(schema(allOf=[{"$ref": "http://json-schema.org/draft-07/schema#"}])))
    assert problem.pointer == "/allOf/0/$ref"
    assert "only remote references allowed" in problem.message


def test_a_schema_of_another_format_is_checked_for_its_self_only() -> None:
    thrift = SchemaKey.of("com.acme", "payload", "thrift", "1-0-0")
    idl = {"description": "A Thrift struct", "self": thrift.self_object(), "idl": "struct P {}"}
    assert lint(idl, thrift) == []
    assert pointers(lint({**idl, "self": {"vendor": "com.acme"}}, thrift)) == ["/self"]
