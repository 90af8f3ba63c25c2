import os
from pathlib import Path

import pytest

from libs.config import ConfigError
from services.supervisor import (
    COMPONENTS,
    FIRST_BACKOFF_S,
    MAX_BACKOFF_S,
    STABLE_AFTER_S,
    components,
    next_backoff,
)


@pytest.mark.parametrize(
    ("previous", "ran_for", "expected"),
    [
        (0.0, 0.1, FIRST_BACKOFF_S),
        (FIRST_BACKOFF_S, 0.1, 2 * FIRST_BACKOFF_S),
        (8.0, 5.0, 16.0),
        (MAX_BACKOFF_S, 1.0, MAX_BACKOFF_S),
        (20.0, 1.0, MAX_BACKOFF_S),
        (MAX_BACKOFF_S, STABLE_AFTER_S, 0.0),
        (0.0, STABLE_AFTER_S + 1, 0.0),
    ],
)
def test_restart_backoff(previous: float, ran_for: float, expected: float) -> None:
    assert next_backoff(previous, ran_for) == expected


def test_the_forwarder_runs_only_once_a_destination_is_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FURROW_CONFIG", raising=False)
    assert components(None) == list(COMPONENTS)
    config = tmp_path / "furrow.toml"
    config.write_text(
        '[[forward.destinations]]\nname = "crm"\ntarget = "http"\nurl = "http://crm/events"\n'
    )
    assert components(config) == [*COMPONENTS, ("forward",)]
    config.write_text('[[forward.destinations]]\nname = "crm"\ntarget = "http"\n')
    with pytest.raises(ConfigError, match="target http needs url"):
        components(config)


@pytest.mark.parametrize(
    ("config", "environment", "archives"),
    [
        ("", {}, False),
        ("[sink_good]\nindex = 'g'\n", {"FURROW_ARCHIVED": "x"}, False),
        ("[archive]\ndirectory = '/tmp/a'\n", {}, True),
        ("", {"FURROW_ARCHIVE_BUCKET": "b"}, True),
    ],
)
def test_the_archive_sink_runs_only_once_configured(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    config: str,
    environment: dict[str, str],
    archives: bool,
) -> None:
    for name in [name for name in os.environ if name.startswith("FURROW_")]:
        monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "furrow.toml"
    path.write_text(config)
    assert (("archive",) in components(path)) is archives
    assert set(COMPONENTS) <= set(components(path))
