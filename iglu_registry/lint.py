"""Lint self-describing JSON Schemas and validate instances against them: pure functions.

As igluctl does, lint finds errors, which refuse a schema, and warnings, which do not. A schema
has no errors when it is an object naming the self-describing meta-schema in `$schema`, its
`self` is a valid schema key (and the one the URL names, when there is a URL), it is a valid
draft-04 JSON Schema (checked against the draft-04 meta-schema), its regular expressions
compile and each `$ref` points at a part of the same document or at one of the two
meta-schemas (draft-04's, Iglu's self-describing one), which every resolver holds offline; any
other remote reference is an error, since a schema must be readable on its own. Keywords that
draft-04 does not know (`examples`, a misspelt `maxLenght`) and a schema or property without a
`description` are warnings. A schema of another format than `jsonschema` (a Thrift IDL) is
checked for its `self` only.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from jsonschema import Draft4Validator
from jsonschema.exceptions import best_match
from referencing.exceptions import Unresolvable

from libs import meta_schemas
from libs.formats.iglu import SELF_DESCRIBING_SCHEMA, IgluError, SchemaKey, SchemaVer

DRAFT4_KEYWORDS = frozenset(
    {
        "$schema", "id", "$ref", "title", "description", "default",
        "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum",
        "maxLength", "minLength", "pattern",
        "additionalItems", "items", "maxItems", "minItems", "uniqueItems",
        "maxProperties", "minProperties", "required", "additionalProperties", "definitions",
        "properties", "patternProperties", "dependencies",
        "enum", "type", "allOf", "anyOf", "oneOf", "not", "format",
    }
)  # fmt: skip
IGLU_KEYWORDS = frozenset({"self", "$supersedes"})
# The format whose schemas are JSON Schemas, which lint reads as such.
JSON_SCHEMA = "jsonschema"
# Deeper documents are refused before any recursive check could exhaust the stack.
MAX_DEPTH = 64

_META_VALIDATOR = Draft4Validator(Draft4Validator.META_SCHEMA)
# Keywords whose value is one subschema, a map of names to subschemas, or a list of them.
_SUBSCHEMA = ("additionalItems", "additionalProperties", "not", "items")
_SUBSCHEMA_MAPS = ("properties", "patternProperties", "definitions", "dependencies")
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "items")


class Level(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One reason a schema or an instance is rejected (an error), or a remark that does not
    stop a schema from being published (a warning), at a JSON pointer into the document."""

    pointer: str
    message: str
    level: Level = Level.ERROR

    def to_json(self) -> dict[str, str]:
        return {"pointer": self.pointer or "/", "message": self.message, "level": self.level}


def errors(problems: list[Problem]) -> list[Problem]:
    """The problems that refuse a schema."""
    return [problem for problem in problems if problem.level is Level.ERROR]


def lint(document: object, expected: SchemaKey | None = None) -> list[Problem]:
    """Every problem of the self-describing schema `document`, errors and warnings; it may be
    published when there is no error.

    With `expected`, `self` must name that key (the one in the URL it is published at).
    """
    if not isinstance(document, dict):
        return [Problem("", f"a schema must be a JSON object, not {_kind(document)}")]
    if too_deep(document):
        return [Problem("", f"the schema is nested more than {MAX_DEPTH} levels deep")]
    meta_schema: list[Problem] = []
    if document.get("$schema") != SELF_DESCRIBING_SCHEMA:
        meta_schema.append(Problem("/$schema", f"must be {SELF_DESCRIBING_SCHEMA!r}"))
    problems: list[Problem] = []
    key = self_key(document, problems)
    if key is not None and expected is not None and key != expected:
        problems.append(Problem("/self", f"says {key.uri} but the URL names {expected.uri}"))
    if key is not None:
        problems.extend(_supersedes_problems(document.get("$supersedes"), key.version))
    named = key or expected
    if named is not None and named.format != JSON_SCHEMA:
        # Iglu keeps schemas of other formats (Iglu Central's Thrift IDL of CollectorPayload)
        # as they are: only their key is its business.
        return problems
    return [*meta_schema, *problems, *json_schema_problems(document, top_level=IGLU_KEYWORDS)]


def self_key(document: dict[str, Any], problems: list[Problem]) -> SchemaKey | None:
    """The key in `self`, or None after adding the reason it is unusable to `problems`."""
    if "self" not in document:
        problems.append(Problem("/self", "missing: a self-describing schema names its own key"))
        return None
    try:
        return SchemaKey.from_self(document["self"])
    except IgluError as error:
        problems.append(Problem("/self", str(error)))
        return None


def supersedes(document: dict[str, Any]) -> list[SchemaVer]:
    """The versions a linted schema supersedes, lowest first."""
    return sorted({SchemaVer.parse(version) for version in document.get("$supersedes", [])})


def json_schema_problems(
    schema: dict[str, Any], *, top_level: frozenset[str] = frozenset()
) -> list[Problem]:
    """Problems of `schema` as a draft-04 JSON Schema; `top_level` names extra root keywords."""
    problems = [
        Problem(_pointer(error.absolute_path), _message(error))
        for error in _META_VALIDATOR.iter_errors(schema)
    ]
    for pointer, subschema in _subschemas(schema):
        allowed = DRAFT4_KEYWORDS | top_level if pointer == "" else DRAFT4_KEYWORDS
        for keyword in sorted(set(subschema) - allowed):
            problems.append(
                Problem(f"{pointer}/{_escape(keyword)}", "unknown keyword", Level.WARNING)
            )
        if "description" not in subschema and _describes_data(pointer):
            problems.append(Problem(pointer, "no description", Level.WARNING))
        problems.extend(_pattern_problems(pointer, subschema))
        reference = subschema.get("$ref")
        if isinstance(reference, str) and not _resolves(schema, reference):
            problems.append(Problem(f"{pointer}/$ref", _reference_problem(reference)))
    return sorted(set(problems), key=lambda problem: (problem.pointer, problem.message))


def validate_instance(schema: dict[str, Any], instance: object) -> list[Problem]:
    """Where `instance` breaks the (linted) `schema`; empty when it is valid."""
    validator = Draft4Validator(_without_iglu_keywords(schema), registry=meta_schemas.registry())
    try:
        return [
            Problem(_pointer(error.absolute_path), error.message)
            for error in validator.iter_errors(instance)
        ]
    except (Unresolvable, RecursionError) as error:
        # A `$ref` that went through a subschema `id` names another document.
        return [Problem("", f"the schema cannot be applied: {error}")]


def too_deep(document: object) -> bool:
    """True when `document` nests arrays and objects more than MAX_DEPTH levels deep."""
    level: list[object] = [document]
    for _ in range(MAX_DEPTH):
        level = [
            child
            for value in level
            if isinstance(value, dict | list)
            for child in (value.values() if isinstance(value, dict) else value)
        ]
        if not level:
            return False
    return any(isinstance(value, dict | list) for value in level)


def _supersedes_problems(value: object, version: SchemaVer) -> list[Problem]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return [Problem("/$supersedes", "must be an array of SchemaVer strings such as 1-0-0")]
    problems: list[Problem] = []
    for index, item in enumerate(value):
        try:
            superseded = SchemaVer.parse(item)
        except IgluError as error:
            problems.append(Problem(f"/$supersedes/{index}", str(error)))
            continue
        if superseded >= version:
            problems.append(
                Problem(f"/$supersedes/{index}", f"{item} is not lower than this version {version}")
            )
    return problems


def _without_iglu_keywords(schema: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in schema.items() if key not in IGLU_KEYWORDS}


def _subschemas(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object in a schema position, with its JSON pointer, the root first."""
    pending: list[tuple[str, object]] = [("", schema)]
    while pending:
        pointer, node = pending.pop()
        if not isinstance(node, dict):
            continue
        yield pointer, node
        for keyword in _SUBSCHEMA:
            if isinstance(node.get(keyword), dict):
                pending.append((f"{pointer}/{keyword}", node[keyword]))
        for keyword in _SUBSCHEMA_MAPS:
            children = node.get(keyword)
            if isinstance(children, dict):
                pending.extend(
                    (f"{pointer}/{keyword}/{_escape(name)}", child)
                    for name, child in children.items()
                )
        for keyword in _SUBSCHEMA_LISTS:
            children = node.get(keyword)
            if isinstance(children, list):
                pending.extend(
                    (f"{pointer}/{keyword}/{index}", child) for index, child in enumerate(children)
                )


def _pattern_problems(pointer: str, subschema: dict[str, Any]) -> Iterator[Problem]:
    patterns: list[tuple[str, object]] = [(f"{pointer}/pattern", subschema.get("pattern"))]
    if isinstance(subschema.get("patternProperties"), dict):
        patterns.extend(
            (f"{pointer}/patternProperties/{_escape(name)}", name)
            for name in subschema["patternProperties"]
        )
    for where, pattern in patterns:
        if isinstance(pattern, str):
            try:
                re.compile(pattern)
            except re.error as error:
                yield Problem(where, f"invalid regular expression {pattern!r}: {error}")


def _describes_data(pointer: str) -> bool:
    """True for the root and for each property, whose meaning a description should give."""
    parts = pointer.split("/")
    return pointer == "" or (len(parts) >= 2 and parts[-2] == "properties")


def _resolves(schema: dict[str, Any], reference: str) -> bool:
    """True when `reference` is a `#...` JSON pointer to something inside `schema`, or names
    one of the meta-schemas."""
    if meta_schemas.canonical(reference) is not None:
        return True
    if not reference.startswith("#"):
        return False
    fragment = urllib.parse.unquote(reference[1:])
    if fragment == "":
        return True
    if not fragment.startswith("/"):
        return False
    node: object = schema
    for token in fragment[1:].split("/"):
        name = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and name in node:
            node = node[name]
        elif isinstance(node, list) and name.isdigit() and int(name) < len(node):
            node = node[int(name)]
        else:
            return False
    return True


def _reference_problem(reference: str) -> str:
    if reference.startswith("#"):
        return f"{reference!r} points at nothing in this schema"
    return (
        f"{reference!r} is not a local reference (#/...); the only remote references allowed are "
        f"to the draft-04 meta-schema and to Iglu's self-describing meta-schema"
    )


def _message(error: Any) -> str:
    # "is not valid under any of the given schemas" hides which alternative came closest.
    if error.context:
        return str(best_match(error.context).message)
    return str(error.message)


def _pointer(path: Any) -> str:
    return "".join(f"/{_escape(str(part))}" for part in path)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _kind(document: object) -> str:
    if document is None:
        return "null"
    if isinstance(document, bool):
        return "a boolean"
    if isinstance(document, int | float):
        return "a number"
    if isinstance(document, str):
        return "a string"
    return "an array" if isinstance(document, list) else type(document).__name__
