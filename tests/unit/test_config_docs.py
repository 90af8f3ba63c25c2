"""docs/configuration.md is generated from the config models: it must list every key as the
models define it now."""

from __future__ import annotations

from devstack import config_docs
from libs.config import Settings


def test_the_configuration_page_is_up_to_date() -> None:
    assert config_docs.PAGE.read_text() == config_docs.render(), (
        "docs/configuration.md is out of date: run .venv/bin/python -m devstack.config_docs"
    )


def test_every_key_of_every_service_is_listed() -> None:
    page = config_docs.render()
    for service in config_docs.SERVICES:
        assert f"## {service.table}\n" in page
        for name, field in service.model.model_fields.items():
            shared = field.annotation
            if isinstance(shared, type) and issubclass(shared, Settings):
                assert f"## {name}\n" in page, f"[{name}] missing"
                for key in shared.model_fields:
                    assert f"| `{key}` |" in page, f"[{name}] {key} missing"
            else:
                assert f"| `{name}` |" in page, f"[{service.table}] {name} missing"


def test_a_field_comment_becomes_its_description() -> None:
    # The comment above `durability` in services/collector/config.py, and the one above a group
    # for the field right below it.
    page = config_docs.render()
    assert "| `durability` |" in page
    durability = next(line for line in page.splitlines() if line.startswith("| `durability` |"))
    assert "answer a tracking request only once Kafka holds its records" in durability
    timeout = next(line for line in page.splitlines() if line.startswith("| `write_timeout_s` |"))
    assert timeout.endswith("| See `durability`. |")


def test_environment_variables_and_defaults_are_those_load_config_reads() -> None:
    page = config_docs.render()
    assert "| `port` | int | `8000` | `FURROW_COLLECTOR_PORT` |" in page
    assert '| `index` | str | `"bad"` | `FURROW_SINK_BAD_INDEX` |' in page
    # Lists are read from the file only: load_config passes a variable's text through as is.
    assert "| `cookie_domains` | list of str | `[]` | - |" in page
