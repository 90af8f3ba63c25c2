"""Typed configuration, read from one TOML file plus `FURROW_*` environment variables.

A service's config object is a pydantic model whose fields are either its own settings (read from
the TOML table named after the service, e.g. `[collector]`, and from `FURROW_COLLECTOR_<FIELD>`) or
shared sections (a nested model such as `kafka: KafkaSettings`, read from the top-level `[kafka]`
table and `FURROW_KAFKA_<FIELD>`). Environment variables win over the file; the defaults alone make
`make run` work on one machine.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

CONFIG_FILE_VARIABLE = "FURROW_CONFIG"


class ConfigError(ValueError):
    """The configuration file or an environment variable holds something unusable."""


class Settings(BaseModel):
    """Base of every config model: unknown keys are errors, so a typo never goes unnoticed."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class KafkaSettings(Settings):
    bootstrap_servers: str = "127.0.0.1:9092"
    client_id: str = "furrow"
    # Kafka's own default; the collector needs it to know how large a raw record may be.
    max_request_size: int = 1_048_576
    # A consumer's fetch is answered once this much is there, or after this long. Kafka's own
    # defaults (1 byte) answer every fetch as soon as anything arrives: at the pipeline's 3,000
    # events/s the enricher then took batches of a few dozen events, each with its own produce
    # request and commit. These cut its CPU per event from 158-177 to 106-108 us and the
    # broker's from 55-75 to 34-40 us, for at most 100 ms more latency per consuming stage.
    fetch_min_bytes: int = Field(default=256 * 1024, ge=1)
    fetch_max_wait_ms: int = Field(default=100, ge=0)
    # A consumer that Kafka hears nothing from for this long leaves its group (Kafka's default).
    session_timeout_ms: int = Field(default=45_000, ge=1)
    # A consumer that asks for no records for this long leaves its group (Kafka's default).
    max_poll_interval_ms: int = Field(default=300_000, ge=1)
    # A consumer whose group has records waiting, and that reads and commits none for this
    # long, answers 503 on /health.
    stall_after_s: float = Field(default=30.0, gt=0)
    # A consumer that asks for records with Kafka answering, and gets none for this long after
    # stalling while records wait in its partitions (or while it has none and its group has
    # records waiting), is replaced by a new one; stuck again, it exits for its supervisor.
    stall_exit_after_s: float = Field(default=60.0, gt=0)


class TopicSettings(Settings):
    raw: str = "raw"
    good: str = "good"
    bad: str = "bad"
    logs: str = "logs"


class ElasticsearchSettings(Settings):
    url: str = "http://127.0.0.1:9200"


class LoggingSettings(Settings):
    level: str = "INFO"
    # When set ("host:port"), the service also ships its own logs to a Logstash-compatible
    # TCP listener such as Furrow's own on port 9600.
    ship_to: str | None = None


ConfigT = TypeVar("ConfigT", bound=Settings)


def load_config(
    model: type[ConfigT],
    section: str,
    *,
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> ConfigT:
    """Build `model` from the TOML file at `path` (or `$FURROW_CONFIG`, if set) and `environ`.

    `section` names the service's own table and environment prefix; `defaults` override the
    model's defaults for this instance (for services run several times with different roles).
    """
    environ = os.environ if environ is None else environ
    document = _read_toml(path or _path_from(environ))
    values: dict[str, Any] = dict(defaults or {})
    values.update(_table(document, section))
    for name, field in model.model_fields.items():
        nested = field.annotation
        if isinstance(nested, type) and issubclass(nested, BaseModel):
            values[name] = {**_table(document, name), **_from_env(environ, name, nested)}
        else:
            variable = _variable(section, name)
            if variable in environ:
                values[name] = environ[variable]
    try:
        return model.model_validate(values)
    except ValidationError as error:
        raise ConfigError(f"invalid {section} configuration:\n{error}") from error


def _path_from(environ: Mapping[str, str]) -> Path | None:
    value = environ.get(CONFIG_FILE_VARIABLE)
    return Path(value) if value else None


def _read_toml(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        with path.open("rb") as config_file:
            return tomllib.load(config_file)
    except FileNotFoundError as error:
        raise ConfigError(f"config file {path} does not exist") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path} is not valid TOML: {error}") from error


def _table(document: Mapping[str, Any], name: str) -> dict[str, Any]:
    table = document.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"[{name}] in the config file must be a table")
    return table


def _from_env(environ: Mapping[str, str], section: str, model: type[BaseModel]) -> dict[str, str]:
    return {
        name: environ[_variable(section, name)]
        for name in model.model_fields
        if _variable(section, name) in environ
    }


def _variable(section: str, field: str) -> str:
    return f"FURROW_{section}_{field}".upper()
