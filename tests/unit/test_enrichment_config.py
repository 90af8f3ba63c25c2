from pathlib import Path

import pytest

from services.enrich.enrichments.config import SchemaCriterion, local_file


@pytest.mark.parametrize(
    ("criterion", "schema", "matches"),
    [
        ("iglu:com.acme/signup/jsonschema/1-*-*", "iglu:com.acme/signup/jsonschema/1-0-0", True),
        ("iglu:com.acme/signup/jsonschema/1-*-*", "iglu:com.acme/signup/jsonschema/1-4-2", True),
        ("iglu:com.acme/signup/jsonschema/1-*-*", "iglu:com.acme/signup/jsonschema/2-0-0", False),
        ("iglu:com.acme/signup/jsonschema/1-0-*", "iglu:com.acme/signup/jsonschema/1-1-0", False),
        ("iglu:com.acme/signup/jsonschema/1-1-0", "iglu:com.acme/signup/jsonschema/1-1-0", True),
        ("iglu:com.acme/signup/jsonschema/*-*-*", "iglu:com.acme/signup/jsonschema/7-0-1", True),
        ("iglu:com.acme/signup/jsonschema/1-*-*", "iglu:com.acme/signin/jsonschema/1-0-0", False),
        ("iglu:com.acme/signup/jsonschema/1-*-*", "iglu:com.acme.x/signup/jsonschema/1-0-0", False),
        ("iglu:com.acme/signup/jsonschema/1-*-*", "iglu:com.acme/signup/avro/1-0-0", False),
        ("iglu:com.acme/signup/jsonschema/1-*-*", "iglu:com.acme/signup/jsonschema/1-0-0\n", False),
        ("iglu:com.acme/signup/jsonschema/1-*-*", "not iglu", False),
    ],
)
def test_schema_criteria(criterion: str, schema: str, matches: bool) -> None:
    assert SchemaCriterion.parse(criterion).matches(schema) is matches


@pytest.mark.parametrize(
    "criterion",
    [
        "iglu:com.acme/signup/jsonschema/1-*",
        "iglu:com.acme/signup/jsonschema/0-*-*",
        "iglu:com.acme/signup/jsonschema/1-x-*",
        "com.acme/signup/jsonschema/1-*-*",
        "iglu:com.acme/signup/jsonschema/1-*-*\n",
    ],
)
def test_what_is_not_a_criterion(criterion: str) -> None:
    with pytest.raises(ValueError, match="not a schema criterion"):
        SchemaCriterion.parse(criterion)


def test_local_files(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "db.json").write_text("{}")
    (tmp_path / "here.json").write_text("{}")
    assert local_file(None, "here.json", tmp_path) == tmp_path / "here.json"
    assert local_file("sub", "db.json", tmp_path) == tmp_path / "sub" / "db.json"
    assert (
        local_file(str(tmp_path / "sub"), "db.json", Path("/elsewhere"))
        == tmp_path / "sub" / "db.json"
    )
    assert (
        local_file((tmp_path / "sub").as_uri(), "db.json", Path("/elsewhere"))
        == tmp_path / "sub" / "db.json"
    )


@pytest.mark.parametrize(
    ("uri", "database", "message"),
    [
        ("s3://bucket/maxmind", "GeoLite2-City.mmdb", "downloads nothing"),
        ("gs://bucket/x", "db.json", "downloads nothing"),
        ("https://example.com/x/", "db.json", "downloads nothing"),
        (None, "sub/db.json", "file name"),
        (None, "", "file name"),
        (None, "missing.json", "does not exist"),
    ],
)
def test_unusable_local_files(tmp_path: Path, uri: str | None, database: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        local_file(uri, database, tmp_path)
