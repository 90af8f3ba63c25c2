"""Which API key `furrow schemas push` and `furrow keys create` send."""

from __future__ import annotations

from pathlib import Path

import pytest

from iglu_registry.cli import api_key
from libs.config import ConfigError


@pytest.mark.parametrize(
    ("in_file", "from_environment", "super_key", "sent"),
    [
        ("file-key\n", "environment-key", "super-key", "file-key"),
        (None, "environment-key", "super-key", "environment-key"),
        (None, None, "super-key", "super-key"),
        (None, "", "super-key", "super-key"),
        (None, None, None, None),
    ],
)
def test_the_key_file_comes_first_then_furrow_apikey_then_the_super_key(
    tmp_path: Path,
    in_file: str | None,
    from_environment: str | None,
    super_key: str | None,
    sent: str | None,
) -> None:
    file = None
    if in_file is not None:
        file = tmp_path / "apikey"
        file.write_text(in_file)
    assert api_key(file, from_environment, super_key) == sent


@pytest.mark.parametrize(("content", "problem"), [(None, "cannot be read"), ("\n", "is empty")])
def test_a_key_file_that_gives_no_key_is_named(
    tmp_path: Path, content: str | None, problem: str
) -> None:
    file = tmp_path / "apikey"
    if content is not None:
        file.write_text(content)
    with pytest.raises(ConfigError, match=f"--apikey-file {file} {problem}"):
        api_key(file, "environment-key", "super-key")
