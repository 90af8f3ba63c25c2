"""The two documents a schema may `$ref` outside itself: the JSON Schema draft-04 meta-schema
and Iglu's self-describing meta-schema. Both are kept locally, so a schema that refers to them
(as some of Iglu Central's do) is linted and applied with no network.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import orjson
from jsonschema import Draft4Validator
from referencing import Registry
from referencing.jsonschema import DRAFT4

DRAFT_04 = "http://json-schema.org/draft-04/schema"
SELF_DESCRIBING = (
    "http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0"
)
_SELF_DESCRIBING_FILE = (
    Path(__file__).resolve().parent
    / "builtin_schemas"
    / "com.snowplowanalytics.self-desc"
    / "schema"
    / "jsonschema"
    / "1-0-0"
)


def canonical(reference: str) -> str | None:
    """DRAFT_04 or SELF_DESCRIBING when `reference` names one of them (over http or https, with
    or without an empty fragment); None otherwise."""
    address = reference.removesuffix("#")
    if address.startswith("https://"):
        address = "http://" + address.removeprefix("https://")
    return address if address in (DRAFT_04, SELF_DESCRIBING) else None


def meta_schema(reference: str) -> dict[str, Any] | None:
    """The meta-schema `reference` names, as a validator applies it; None for another document."""
    address = canonical(reference)
    if address is None:
        return None
    return _documents()[address]


def retrieve(uri: str) -> dict[str, Any]:
    """For a validator's `retriever`: a meta-schema, or an error for any other remote document
    (a schema must be applicable offline)."""
    document = meta_schema(uri)
    if document is None:
        raise LookupError(f"{uri} is not available: only the meta-schemas can be referred to")
    return document


def registry() -> Registry[Any]:
    """A `referencing` registry holding both meta-schemas under every address they go by."""
    resources = []
    for address, document in _documents().items():
        resource = DRAFT4.create_resource(document)
        for scheme in ("http://", "https://"):
            for suffix in ("", "#"):
                resources.append((scheme + address.removeprefix("http://") + suffix, resource))
    return Registry().with_resources(resources)


@functools.cache
def _documents() -> dict[str, dict[str, Any]]:
    self_describing: dict[str, Any] = orjson.loads(_SELF_DESCRIBING_FILE.read_bytes())
    # Its own `$schema` names itself, and `self` is Iglu's; applied as a draft-04 schema, it is
    # the rest.
    applicable = {k: v for k, v in self_describing.items() if k not in ("$schema", "self")}
    return {DRAFT_04: dict(Draft4Validator.META_SCHEMA), SELF_DESCRIBING: applicable}
