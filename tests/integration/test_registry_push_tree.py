"""`furrow schemas push` of a tree shaped as Iglu Central's `schemas/` folder into a fresh
registry on PostgreSQL: every schema is created, including those lint only warns about
(`examples`, no descriptions), those that `$ref` a meta-schema, long version runs and Iglu
Central's own text for keys that are built into Furrow; each reads back equal to its file.

There is no network to GitHub here, so the tree is built by the test, with the awkward cases
Iglu Central holds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from iglu_registry.tree import read_tree
from libs.formats.iglu import SELF_DESCRIBING_SCHEMA
from libs.iglu_repositories import BuiltinRepository
from services.cli import main
from tests.integration.registry_servers import SUPER_KEY, empty_registry
from tests.schema_trees import iglu_central_geolocation

SP = "com.snowplowanalytics.snowplow"
DRAFT_04 = "http://json-schema.org/draft-04/schema#"


@pytest.fixture
def fresh_registry(tmp_path: Path, postgres_url: str) -> Iterator[str]:
    """A registry on a database of its own that has never held a schema."""
    with empty_registry("postgres", tmp_path, postgres_url) as url:
        yield url


def write(root: Path, vendor: str, name: str, version: str, body: dict[str, Any]) -> None:
    # Iglu Central's files are tab-indented with keys in the authors' order; the test writes
    # its own layout, what matters is that the registry gives back the same document.
    path = root / "schemas" / vendor / name / "jsonschema" / version
    path.parent.mkdir(parents=True, exist_ok=True)
    self_object = {"vendor": vendor, "name": name, "format": "jsonschema", "version": version}
    document = {"$schema": SELF_DESCRIBING_SCHEMA, "self": self_object, **body}
    path.write_text(json.dumps(document, indent="\t"))


def awkward_tree(root: Path) -> Path:
    # Iglu's self-describing meta-schema, which refers to draft-04's over https.
    write(
        root,
        "com.snowplowanalytics.self-desc",
        "schema",
        "1-0-0",
        {
            "description": "Meta-schema for self-describing JSON schema",
            "allOf": [
                {"properties": {"self": {"type": "object"}}, "required": ["self"]},
                {"$ref": "https://json-schema.org/draft-04/schema"},
            ],
        },
    )
    # A schema whose items are schemas, by `$ref` to each meta-schema.
    write(
        root,
        "com.snowplowanalytics.iglu.test",
        "schema_list",
        "1-0-0",
        {
            "description": "Schemas, as JSON",
            "type": "object",
            "properties": {
                "drafts": {"type": "array", "items": {"$ref": DRAFT_04}},
                "selfDescribing": {
                    "type": "array",
                    "items": {
                        "$ref": "http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/"
                        "schema/jsonschema/1-0-0#"
                    },
                },
            },
        },
    )
    # `examples`, a keyword draft-04 does not know, at the top and in a property; no
    # description anywhere.
    write(
        root,
        "com.snowplowanalytics.iglu.test",
        "with_examples",
        "1-0-0",
        {
            "type": "object",
            "properties": {"size": {"type": "integer", "examples": [1, 2]}},
            "examples": [{"size": 3}],
        },
    )
    # A long run of versions, with revisions and a new model.
    versions = [f"1-0-{a}" for a in range(13)] + ["1-1-0", "1-1-1", "2-0-0", "3-0-0"]
    for version in versions:
        write(
            root,
            "com.snowplowanalytics.iglu.test",
            "many_versions",
            version,
            {"description": f"Version {version}", "type": "object"},
        )
    # Iglu Central's text for schemas Furrow has built in (which it writes differently), with
    # the versions before them that Furrow does not ship.
    for version in ("1-0-0", "1-0-1", "1-1-0"):
        write(root, SP, "geolocation_context", version, iglu_central_geolocation())
    for version in ("1-0-0", "1-0-1", "1-0-2", "1-0-3", "1-0-4"):
        write(
            root,
            SP,
            "payload_data",
            version,
            {
                "description": "Schema for a Snowplow payload",
                "type": "array",
                "items": {"type": "object", "properties": {"e": {"type": "string"}}},
                "minItems": 1,
            },
        )
    # A schema of another format: Iglu Central's Thrift IDL of the raw collector payload, with
    # no `$schema` at all.
    thrift = root / "schemas" / SP / "CollectorPayload" / "thrift" / "1-0-0"
    thrift.parent.mkdir(parents=True)
    self_object = {"vendor": SP, "name": "CollectorPayload", "format": "thrift", "version": "1-0-0"}
    idl = "struct CollectorPayload {\n31337: string schema\n}\n"
    thrift.write_text(json.dumps({"description": "Thrift", "self": self_object, "idl": idl}))
    return root / "schemas"


def test_an_awkward_tree_pushes_whole_and_reads_back_equal(
    fresh_registry: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FURROW_APIKEY", SUPER_KEY)
    tree = awkward_tree(tmp_path)
    schemas, problems = read_tree(tree)
    assert problems == []
    builtin = set(BuiltinRepository().schema_keys())
    assert {schema.key for schema in schemas} & builtin, "the tree must shadow built-in keys"
    # A fresh database holds no schema: the built-in ones are served from files.
    with httpx.Client(base_url=fresh_registry, headers={"apikey": SUPER_KEY}) as admin:
        server = admin.get("/api/meta/server").json()
    assert server["schemaCount"] == 0
    assert server["builtInSchemaCount"] == len(builtin)
    arguments = ["schemas", "push", str(tree), "--registry", fresh_registry, "--public"]
    assert main(arguments) == 0
    out = capsys.readouterr().out
    assert out.endswith(f"created {len(schemas)}, updated 0, skipped 0, failed 0\n"), out
    with httpx.Client(base_url=fresh_registry) as client:
        for schema in schemas:
            answer = client.get(f"/api/schemas/{schema.key.path}")
            assert answer.status_code == 200, schema.key.uri
            assert answer.json() == json.loads(schema.path.read_text()), schema.key.uri
        listed = client.get("/api/schemas", params={"repr": "meta"}).json()
    published = [entry for entry in listed if not entry["metadata"].get("builtIn")]
    assert len(published) == len(schemas)
    # Pushed again, nothing changes.
    assert main(arguments) == 0
    assert capsys.readouterr().out.endswith(f"skipped {len(schemas)}, failed 0\n")
