"""`furrow schemas push` and `furrow keys create` against a real registry, on both databases."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from services.cli import main
from tests.integration.registry_servers import RegistryServer
from tests.schema_trees import write_schema


def with_key(arguments: list[str], apikey: str) -> int:
    """`furrow ARGUMENTS` given `apikey` the one way a secret may come: in a file."""
    with tempfile.TemporaryDirectory() as directory:
        key_file = Path(directory) / "apikey"
        key_file.write_text(apikey + "\n")
        return main([*arguments, "--apikey-file", str(key_file)])


def push(registry: RegistryServer, root: Path, apikey: str, *extra: str) -> int:
    return with_key(["schemas", "push", str(root), "--registry", registry.url, *extra], apikey)


def test_push_publishes_in_schemaver_order_then_skips_what_is_unchanged(
    registry: RegistryServer, vendor: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for version in ("2-0-0", "1-1-0", "1-0-1", "1-0-0"):
        write_schema(tmp_path, vendor, "event", version, type="object")
    write_schema(tmp_path, vendor, "other", "1-0-0", type="string")
    assert push(registry, tmp_path, registry.super_key, "--public") == 0
    assert capsys.readouterr().out.endswith("created 5, updated 0, skipped 0, failed 0\n")
    listed = registry.client().get(f"/api/schemas/{vendor}").json()
    assert len(listed) == 5
    assert push(registry, tmp_path, registry.super_key, "--public") == 0
    assert capsys.readouterr().out.endswith("created 0, updated 0, skipped 5, failed 0\n")


def test_push_reports_each_failure_and_exits_1(
    registry: RegistryServer, vendor: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_schema(tmp_path, vendor, "event", "1-0-0", type="object")
    write_schema(tmp_path, vendor, "event", "1-0-2", type="object")
    write_schema(tmp_path, vendor, "broken", "1-0-0", type="objekt")
    (tmp_path / "notes.txt").write_text("not a schema")
    assert push(registry, tmp_path, registry.super_key) == 1
    out = capsys.readouterr().out
    assert "notes.txt: not laid out as vendor/name/format/M-R-A" in out
    assert "event/jsonschema/1-0-2: 409" in out
    assert "1-0-1 must be published first" in out
    assert "broken/jsonschema/1-0-0: 400 the schema is invalid (/type:" in out
    assert out.endswith("created 1, updated 0, skipped 0, failed 3\n")
    # A changed schema whose version exists is a failure, not a silent skip.
    write_schema(tmp_path, vendor, "event", "1-0-0", type="string")
    assert push(registry, tmp_path, registry.super_key) == 1
    assert "event/jsonschema/1-0-0: 409" in capsys.readouterr().out


def test_keys_create_prints_keys_that_work(
    registry: RegistryServer, vendor: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = ["keys", "create", vendor, "--registry", registry.url]
    assert with_key(arguments, registry.super_key) == 0
    lines = dict(line.split(":", 1) for line in capsys.readouterr().out.splitlines())
    write_key = lines["write"].strip()
    write_schema(tmp_path, vendor, "event", "1-0-0", type="object")
    assert push(registry, tmp_path, write_key) == 0
    assert with_key(arguments, write_key) == 1
    assert "refused (403)" in capsys.readouterr().out


def test_the_key_comes_from_furrow_apikey_and_an_unreadable_key_file_is_named(
    registry: RegistryServer,
    vendor: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    arguments = ["keys", "create", vendor, "--registry", registry.url]
    monkeypatch.setenv("FURROW_APIKEY", registry.super_key)
    assert main(arguments) == 0
    assert "write:" in capsys.readouterr().out
    missing = tmp_path / "no-such-key"
    assert main([*arguments, "--apikey-file", str(missing)]) == 2
    assert f"--apikey-file {missing} cannot be read" in capsys.readouterr().err
    monkeypatch.setenv("FURROW_APIKEY", "not-a-key")
    assert main(arguments) == 1
    assert "refused (400)" in capsys.readouterr().out
