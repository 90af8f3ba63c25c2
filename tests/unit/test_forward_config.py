"""`[forward]` configurations that cannot work stop `furrow forward` at start, naming the setting
at fault (never a secret's value)."""

from __future__ import annotations

from pathlib import Path

import pytest

from libs.config import ConfigError, load_config
from services.cli import main
from services.forward.config import ForwardConfig

GOOD = """
[[forward.destinations]]
name = "crm"
target = "http"
url = "https://crm.example.com/events"
auth_header = "Authorization"
auth_env = "CRM_TOKEN"
fields = ["event_id", "app_id", "contexts_com_acme_user_1"]
[forward.destinations.filter]
all = [
  { app_id = ["shop"] },
  { any = [ { event_name = ["page_view"] }, { field = "page_urlpath", regex = "^/checkout" } ] },
]

[[forward.destinations]]
name = "amplitude"
target = "amplitude"
api_key_env = "AMPLITUDE_API_KEY"
[forward.destinations.filter]
not = { event_name = ["page_ping"] }

[[forward.destinations]]
name = "mirror"
target = "kafka"
topic = "good-mirror"
"""


def config_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "furrow.toml"
    path.write_text(text)
    return path


def test_a_complete_configuration_loads(tmp_path: Path) -> None:
    config = load_config(ForwardConfig, "forward", path=config_file(tmp_path, GOOD), environ={})
    crm, amplitude, mirror = config.destinations
    assert crm.consumer_group == "furrow-forward-crm"
    assert crm.filter is not None and crm.filter.all is not None
    assert amplitude.filter is not None and amplitude.filter.negated is not None
    assert mirror.topic == "good-mirror"
    assert crm.secret({"CRM_TOKEN": "Bearer s3cret"}) == "Bearer s3cret"
    assert mirror.secret({}) is None


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (
            GOOD.replace('regex = "^/checkout"', 'regex = "^/(checkout"'),
            "destinations.0.filter.all.1.any.1 (FURROW_FORWARD_DESTINATIONS): "
            "malformed regex '^/(checkout'",
        ),
        (
            GOOD.replace('field = "page_urlpath"', 'field = "page_path"'),
            "unknown atomic field 'page_path'",
        ),
        (GOOD.replace('"contexts_com_acme_user_1"', '"user_plan"'), "unknown field 'user_plan'"),
        (GOOD.replace('topic = "good-mirror"', ""), "target kafka needs topic"),
        (GOOD.replace('api_key_env = "AMPLITUDE_API_KEY"', ""), "needs api_key_env"),
        (GOOD.replace('auth_env = "CRM_TOKEN"', ""), "auth_header and auth_env go together"),
        (GOOD.replace('name = "mirror"', 'name = "crm"'), "names used twice: crm"),
        (GOOD.replace('target = "kafka"', 'target = "ftp"'), "destinations.2.target"),
        (GOOD.replace('url = "https://', 'url = "ftp://'), "must start with http://"),
        (GOOD + "\nretries = 3\n", "destinations.2.retries"),
    ],
)
def test_a_configuration_that_cannot_work_is_refused(tmp_path: Path, text: str, named: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_config(ForwardConfig, "forward", path=config_file(tmp_path, text), environ={})
    assert named in str(refused.value).replace("[forward] ", "")


def test_the_command_stops_at_start_naming_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config_file(tmp_path, GOOD.replace('regex = "^/checkout"', 'regex = "["'))
    assert main(["--config", str(path), "forward"]) == 2
    assert "malformed regex '['" in capsys.readouterr().err


def test_a_missing_secret_is_named_never_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CRM_TOKEN", raising=False)
    monkeypatch.setenv("AMPLITUDE_API_KEY", "do-not-print-me")
    assert main(["--config", str(config_file(tmp_path, GOOD)), "forward"]) == 2
    error = capsys.readouterr().err
    assert "destination crm: environment variable CRM_TOKEN is unset or empty" in error
    assert "do-not-print-me" not in error


def test_nothing_configured_is_said(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config_file(tmp_path, "")), "forward"]) == 2
    assert "no destination configured" in capsys.readouterr().err
