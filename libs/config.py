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
from typing import Any, Literal, Self, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

CONFIG_FILE_VARIABLE = "FURROW_CONFIG"


class ConfigError(ValueError):
    """The configuration file or an environment variable holds something unusable."""


class SetupError(RuntimeError):
    """The servers refuse what the configuration says (credentials, certificates, protocol); the
    message names the setting at fault."""


class Settings(BaseModel):
    """Base of every config model: unknown keys are errors, so a typo never goes unnoticed."""

    model_config = ConfigDict(extra="forbid", frozen=True)


KafkaSecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


class KafkaSettings(Settings):
    # The brokers, as host:port separated by commas.
    bootstrap_servers: str = "127.0.0.1:9092"
    # How the clients name themselves to the brokers (in their logs and quotas).
    client_id: str = "furrow"
    # Kafka's own default; the collector needs it to know how large a raw record may be.
    max_request_size: int = 1_048_576
    # A consumer's fetch is answered once this much is there, or after this long. Kafka's own
    # defaults (1 byte) answer every fetch as soon as anything arrives, so a busy consumer takes
    # batches of a few dozen events, each with its own produce request and commit; larger
    # fetches spend less CPU per event in the consumer and the broker, for at most
    # fetch_max_wait_ms more latency per consuming stage (figures in docs/performance.md).
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
    # How every client reaches the brokers, as Kafka's own `security.protocol`: SSL and SASL_SSL
    # speak TLS, SASL_PLAINTEXT and SASL_SSL log in with sasl_username and a password.
    security_protocol: KafkaSecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism = "PLAIN"
    sasl_username: str | None = None
    # The password itself (best from FURROW_KAFKA_SASL_PASSWORD), or a file holding it, as
    # Docker and Kubernetes mount secrets. The file is read again whenever a client connects
    # anew after a failure, so a rotated password is picked up.
    sasl_password: SecretStr | None = None
    sasl_password_file: Path | None = None
    # The PEM CA certificates the brokers' certificates must chain to; the system's when unset.
    ssl_ca_file: Path | None = None
    # A client certificate and its key (PEM), for brokers that authenticate clients by TLS.
    ssl_cert_file: Path | None = None
    ssl_key_file: Path | None = None
    ssl_key_password: SecretStr | None = None
    ssl_key_password_file: Path | None = None

    @field_validator("security_protocol", "sasl_mechanism", mode="before")
    @classmethod
    def _upper_case(cls, value: object) -> object:
        # librdkafka takes these in any case; so do we.
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        uses_sasl = self.security_protocol.startswith("SASL_")
        uses_tls = self.security_protocol.endswith("SSL")
        if uses_sasl:
            if not self.sasl_username:
                raise ValueError(f"security_protocol {self.security_protocol} needs sasl_username")
            _one_secret(self.sasl_password, self.sasl_password_file, "sasl_password")
        else:
            _none_set(self, ("sasl_username", "sasl_password", "sasl_password_file"), "SASL_")
        if uses_tls:
            if (self.ssl_cert_file is None) != (self.ssl_key_file is None):
                raise ValueError("ssl_cert_file and ssl_key_file go together")
            if self.ssl_key_password is not None and self.ssl_key_password_file is not None:
                raise ValueError("set ssl_key_password or ssl_key_password_file, not both")
            # Read now only to stop at start when it cannot be.
            self.ssl_key_password_value()
        else:
            names = ("ssl_ca_file", "ssl_cert_file", "ssl_key_file", "ssl_key_password")
            _none_set(self, (*names, "ssl_key_password_file"), "SSL or SASL_SSL")
        for name in ("ssl_ca_file", "ssl_cert_file", "ssl_key_file"):
            _check_readable(getattr(self, name), name)
        return self

    def sasl_password_value(self) -> str | None:
        """The SASL password, read from its file now if it comes from one."""
        return read_secret(self.sasl_password, self.sasl_password_file, "sasl_password_file")

    def ssl_key_password_value(self) -> str | None:
        """The client key's password, read from its file now if it comes from one."""
        return read_secret(
            self.ssl_key_password, self.ssl_key_password_file, "ssl_key_password_file"
        )


class TopicSettings(Settings):
    # Collector payloads, written by the collector and read by the enricher.
    raw: str = "raw"
    # Enriched events (TSV), read by the good sink.
    good: str = "good"
    # Bad rows of every stage, read by the bad sink and by furrow replay.
    bad: str = "bad"
    # Log lines from the log listener, read by the logs sink.
    logs: str = "logs"


class ElasticsearchSettings(Settings):
    # One node's URL, or several of one cluster separated by commas; https:// for TLS.
    url: str = "http://127.0.0.1:9200"
    # Elastic Cloud's deployment id, instead of url.
    cloud_id: str | None = None
    # An API key, as "id:key" or as Elasticsearch encodes it (best from
    # FURROW_ELASTICSEARCH_API_KEY), or a file holding it; or else a user and password.
    api_key: SecretStr | None = None
    api_key_file: Path | None = None
    username: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    # The PEM CA certificates the nodes' certificates must chain to; the system's when unset.
    ca_file: Path | None = None
    # Off only for a test cluster: anyone in the middle could then read and write the events.
    verify_certs: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.cloud_id is not None and "url" in self.model_fields_set:
            raise ValueError("set url or cloud_id, not both")
        for url in self.urls():
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"url {url!r} must start with http:// or https://")
        has_api_key = self.api_key is not None or self.api_key_file is not None
        if self.username is not None:
            if has_api_key:
                raise ValueError("set api_key or username, not both")
            _one_secret(self.password, self.password_file, "password")
        elif self.password is not None or self.password_file is not None:
            raise ValueError("password needs username")
        elif has_api_key:
            _one_secret(self.api_key, self.api_key_file, "api_key")
        _check_readable(self.ca_file, "ca_file")
        return self

    def urls(self) -> list[str]:
        return [url.strip() for url in self.url.split(",") if url.strip()]

    def api_key_value(self) -> str | None:
        """The API key, read from its file now if it comes from one."""
        return read_secret(self.api_key, self.api_key_file, "api_key_file")

    def password_value(self) -> str | None:
        """The password, read from its file now if it comes from one."""
        return read_secret(self.password, self.password_file, "password_file")


class LoggingSettings(Settings):
    # The lowest level logged (DEBUG, INFO, WARNING, ERROR).
    level: str = "INFO"
    # When set ("host:port"), the service also ships its own logs to a Logstash-compatible
    # TCP listener such as Furrow's own on port 9600.
    ship_to: str | None = None


ConfigT = TypeVar("ConfigT", bound=Settings)


def read_secret(value: SecretStr | None, file: Path | None, file_setting: str) -> str | None:
    """`value`, or the content of `file` without its trailing newline; None if neither is set.
    Raises ConfigError naming `file_setting` when the file cannot be read or is empty."""
    if value is not None:
        return value.get_secret_value()
    if file is None:
        return None
    try:
        secret = file.read_text().rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{file_setting} {file} cannot be read: {_why(error)}") from None
    if not secret:
        raise ConfigError(f"{file_setting} {file} is empty")
    return secret


def _one_secret(value: SecretStr | None, file: Path | None, setting: str) -> None:
    if (value is None) == (file is None):
        raise ValueError(f"set one of {setting} and {setting}_file")
    read_secret(value, file, f"{setting}_file")


def _none_set(settings: BaseModel, names: tuple[str, ...], needs: str) -> None:
    for name in names:
        if getattr(settings, name) is not None:
            raise ValueError(f"{name} is set, but security_protocol is not {needs}")


def _check_readable(path: Path | None, setting: str) -> None:
    if path is None:
        return
    try:
        with path.open("rb") as readable:
            readable.read(1)
    except OSError as error:
        raise ValueError(f"{setting} {path} cannot be read: {_why(error)}") from None


def _why(error: BaseException) -> str:
    # The reason alone: an OSError's str repeats the path, which the message already names.
    return getattr(error, "strerror", None) or type(error).__name__


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
        # Each problem with the setting it is about, never the value given: that may be a secret.
        problems = [_problem(section, model, found) for found in error.errors(include_input=False)]
        raise ConfigError(f"invalid {section} configuration:\n" + "\n".join(problems)) from None


def section_given(
    section: str, *, path: Path | None = None, environ: Mapping[str, str] | None = None
) -> bool:
    """Whether the config file (`path`, else `$FURROW_CONFIG`) has a `[section]` table or the
    environment a `FURROW_<SECTION>_*` variable: for services that run only once configured."""
    environ = os.environ if environ is None else environ
    prefix = _variable(section, "")
    if any(name.startswith(prefix) for name in environ):
        return True
    return section in _read_toml(path or _path_from(environ))


def _problem(section: str, model: type[BaseModel], found: Any) -> str:
    location = [str(part) for part in found["loc"]]
    message = found["msg"].removeprefix("Value error, ")
    field = model.model_fields.get(location[0]) if location else None
    annotation = field.annotation if field is not None else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        table, names = location[0], location[1:]
    else:
        table, names = section, location
    if not names:
        return f"  [{table}]: {message}"
    return f"  [{table}] {'.'.join(names)} ({_variable(table, names[0])}): {message}"


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
