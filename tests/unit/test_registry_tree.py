"""Schema trees on disk and `furrow schemas lint` (iglu_registry/tree.py, iglu_registry/cli.py)."""

import io
from pathlib import Path

from iglu_registry.bootstrap import CORE_SCHEMAS
from iglu_registry.cli import lint_tree
from iglu_registry.lint import errors, lint
from iglu_registry.tree import read_tree
from libs.iglu_repositories import BuiltinRepository
from tests.schema_trees import write_schema


def test_a_tree_is_read_in_schemaver_order(tmp_path: Path) -> None:
    for version in ("1-0-10", "1-0-2", "2-0-0", "1-0-0", "1-1-0", "1-0-1"):
        write_schema(tmp_path, "com.acme", "event", version, type="object")
    write_schema(tmp_path, "com.acme", "another", "1-0-0")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("ignored")
    schemas, problems = read_tree(tmp_path)
    assert problems == []
    assert [s.key.path for s in schemas] == [
        "com.acme/another/jsonschema/1-0-0",
        "com.acme/event/jsonschema/1-0-0",
        "com.acme/event/jsonschema/1-0-1",
        "com.acme/event/jsonschema/1-0-2",
        "com.acme/event/jsonschema/1-0-10",
        "com.acme/event/jsonschema/1-1-0",
        "com.acme/event/jsonschema/2-0-0",
    ]


def test_files_outside_the_layout_or_not_json_are_problems(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("hello")
    bad_version = tmp_path / "com.acme" / "event" / "jsonschema" / "v1"
    bad_version.parent.mkdir(parents=True)
    bad_version.write_text("{}")
    (tmp_path / "com.acme" / "event" / "jsonschema" / "1-0-0").write_text("{not json")
    schemas, problems = read_tree(tmp_path)
    assert schemas == []
    assert sorted(p.message.split(":")[0] for p in problems) == [
        "invalid SchemaVer 'v1'",
        "not laid out as vendor/name/format/M-R-A",
        "not valid JSON",
    ]


def test_lint_reports_schema_problems_mismatched_self_and_gaps(tmp_path: Path) -> None:
    write_schema(tmp_path, "com.acme", "event", "1-0-0", type="object")
    write_schema(tmp_path, "com.acme", "event", "1-0-2", type="object")
    write_schema(tmp_path, "com.acme", "broken", "1-0-0", type="objekt")
    moved = write_schema(tmp_path, "com.acme", "moved", "1-0-0")
    moved.rename(moved.with_name("1-0-1"))
    out = io.StringIO()
    assert lint_tree(tmp_path, out) == 1
    report = out.getvalue()
    assert "broken/jsonschema/1-0-0: /type: 'objekt' is not one of" in report
    assert "event/jsonschema/1-0-2: out of order: 1-0-1 must be published first" in report
    assert "moved/jsonschema/1-0-1: /self: says iglu:com.acme/moved/jsonschema/1-0-0" in report
    assert "moved/jsonschema/1-0-1: out of order: 1-0-0 must be published first" in report
    # No schema has a description: a warning each, which fails nothing.
    assert report.endswith("4 schemas, 4 problems, 4 warnings\n")


def test_the_core_schemas_lint_clean() -> None:
    # Their versions start where Furrow joined the protocol (e.g. schema_violations 2-0-1), so
    # only the schemas themselves are linted here, not the order; they are served as they are.
    schemas, problems = read_tree(CORE_SCHEMAS)
    assert problems == []
    assert [schema.key for schema in schemas] == BuiltinRepository().schema_keys()
    for schema in schemas:
        assert errors(lint(schema.document, schema.key)) == [], schema.path
