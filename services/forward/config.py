"""`[forward]` in the config file: the destinations good events are forwarded to, each with its
filter, the fields it gets and its target."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal, Self

from pydantic import Field, model_validator

from libs.config import ConfigError, KafkaSettings, LoggingSettings, Settings, TopicSettings
from libs.formats.enriched import FIELD_NAMES

TargetKind = Literal["http", "amplitude", "kafka"]
AMPLITUDE_URL = "https://api2.amplitude.com/2/httpapi"
# Amplitude refuses a request of more events than this with 413.
AMPLITUDE_MAX_EVENTS = 2000
# An Iglu URI whose version parts may be `*`: iglu:vendor/name/format/1-*-*.
_SCHEMA_PATTERN = re.compile(
    r"iglu:[a-zA-Z0-9\-_.]+/[a-zA-Z0-9\-_]+/[a-zA-Z0-9\-_]+/"
    r"(?:[0-9]+|\*)-(?:[0-9]+|\*)-(?:[0-9]+|\*)"
)
# Keys of the analytics-SDK shape that are not atomic fields.
_DERIVED_KEYS = ("geo_location",)
_SHREDDED_PREFIXES = ("contexts_", "unstruct_event_")
# The settings of which a filter has exactly one.
_CONDITIONS = (
    "all",
    "any",
    "negated",
    "event_name",
    "app_id",
    "event_schema",
    "entity_schema",
    "field",
)


class FilterSettings(Settings):
    """One condition, or `all`/`any` of several, or `not` one. A condition is one of:
    `event_name` (the event's name is one of these), `app_id` (one of these), `event_schema`
    (the event's own schema is one of these Iglu URIs), `entity_schema` (some entity of the
    event, in `contexts` or `derived_contexts`, has one of these schemas), or `field` with
    `regex` (the atomic field, as the enriched TSV writes it, has a match of the regex)."""

    all: list[FilterSettings] | None = None
    any: list[FilterSettings] | None = None
    # `not` is a Python keyword: the setting is spelt `not` in the file.
    negated: FilterSettings | None = Field(default=None, alias="not")
    event_name: list[str] | None = None
    app_id: list[str] | None = None
    event_schema: list[str] | None = None
    entity_schema: list[str] | None = None
    field: str | None = None
    regex: str | None = None

    @model_validator(mode="after")
    def _one_condition(self) -> Self:
        given = [name for name in _CONDITIONS if getattr(self, name) is not None]
        if len(given) != 1:
            spelt = [("not" if name == "negated" else name) for name in given]
            raise ValueError(
                "a filter is exactly one of all, any, not, event_name, app_id, event_schema, "
                f"entity_schema, field (with regex); found {spelt or 'none'}"
            )
        if (self.field is None) != (self.regex is None):
            raise ValueError("field and regex go together")
        if self.field is not None and self.field not in FIELD_NAMES:
            raise ValueError(f"unknown atomic field {self.field!r}")
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as error:
                raise ValueError(f"malformed regex {self.regex!r}: {error}") from None
        for schema in (self.event_schema or []) + (self.entity_schema or []):
            if not _SCHEMA_PATTERN.fullmatch(schema):
                raise ValueError(
                    f"{schema!r} is not an Iglu URI (iglu:vendor/name/format/M-R-A, parts of the "
                    "version may be *)"
                )
        for conditions in (self.all, self.any):
            if conditions is not None and not conditions:
                raise ValueError("all and any need at least one condition")
        return self


class DestinationSettings(Settings):
    """One `[[forward.destinations]]` table."""

    # In metrics, logs, bad rows and the default consumer group.
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    target: TargetKind
    # http and amplitude: where batches are POSTed (amplitude: Amplitude's HTTP V2 endpoint by
    # default, its EU one is https://api.eu.amplitude.com/2/httpapi).
    url: str | None = None
    # http: headers sent with every request.
    headers: dict[str, str] = {}
    # http: a header whose value is read from the environment variable `auth_env` at start, so
    # that the secret is in no file (e.g. auth_header = "Authorization").
    auth_header: str | None = None
    auth_env: str | None = None
    # amplitude: the environment variable holding the project's API key.
    api_key_env: str | None = None
    # kafka: the topic events are written to.
    topic: str | None = None
    # Events that pass are forwarded; none: every event.
    filter: FilterSettings | None = None
    # Keys of the event's JSON (analytics-SDK shape) to forward: atomic fields, `geo_location`,
    # `contexts_...` and `unstruct_event_...` keys. None: all of them. For amplitude these
    # become the event_properties.
    fields: list[str] | None = None
    # The destination's own consumer group; `furrow-forward-<name>` by default.
    group_id: str | None = None
    # A batch is sent when it holds this many events or bytes, or is this old.
    batch_max_events: int = Field(default=500, ge=1)
    batch_max_bytes: int = Field(default=1024 * 1024, ge=1024)
    flush_interval_s: float = Field(default=0.5, gt=0)
    # Batches in flight at once; while all are busy, the destination stops reading Kafka. Four
    # keep a receiver that answers at once busy while the next batches are shaped (make bench).
    max_in_flight: int = Field(default=4, ge=1)
    request_timeout_s: float = Field(default=10.0, gt=0)
    # Sends of one batch (the first included) before its events become bad rows.
    max_attempts: int = Field(default=12, ge=1)
    # Retries wait twice as long each time, up to this.
    max_backoff_s: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _complete_for_its_target(self) -> Self:
        if self.target in ("http", "amplitude"):
            if self.target == "http" and self.url is None:
                raise ValueError("target http needs url")
            if self.url is not None and not self.url.startswith(("http://", "https://")):
                raise ValueError(f"url {self.url!r} must start with http:// or https://")
        if self.target == "http" and (self.auth_header is None) != (self.auth_env is None):
            raise ValueError("auth_header and auth_env go together")
        if self.target == "amplitude":
            if self.api_key_env is None:
                raise ValueError("target amplitude needs api_key_env")
            if self.batch_max_events > AMPLITUDE_MAX_EVENTS:
                raise ValueError(f"amplitude takes at most {AMPLITUDE_MAX_EVENTS} events a batch")
        if self.target == "kafka" and self.topic is None:
            raise ValueError("target kafka needs topic")
        misplaced = {
            "http": ("api_key_env", "topic"),
            "amplitude": ("auth_header", "auth_env", "topic"),
            "kafka": ("url", "auth_header", "auth_env", "api_key_env"),
        }[self.target]
        for name in misplaced:
            if getattr(self, name) is not None:
                raise ValueError(f"{name} is not a setting of target {self.target}")
        if self.target == "kafka" and self.headers:
            raise ValueError("headers is not a setting of target kafka")
        for key in self.fields or []:
            if not _is_event_key(key):
                raise ValueError(f"unknown field {key!r} in fields")
        return self

    @property
    def consumer_group(self) -> str:
        return self.group_id or f"furrow-forward-{self.name}"

    def secret(self, environ: Mapping[str, str]) -> str | None:
        """The auth header's value or the API key, from the environment; ConfigError naming the
        variable (never its value) when it is unset or empty."""
        variable = self.auth_env or self.api_key_env
        if variable is None:
            return None
        value = environ.get(variable, "")
        if not value:
            raise ConfigError(
                f"destination {self.name}: environment variable {variable} is unset or empty"
            )
        return value


def _is_event_key(key: str) -> bool:
    return key in FIELD_NAMES or key in _DERIVED_KEYS or key.startswith(_SHREDDED_PREFIXES)


class ForwardConfig(Settings):
    """`[forward]` in the config file, `FURROW_FORWARD_*` in the environment."""

    destinations: list[DestinationSettings] = []
    health_host: str = "127.0.0.1"
    health_port: int = 9107
    kafka: KafkaSettings = KafkaSettings()
    topics: TopicSettings = TopicSettings()
    logging: LoggingSettings = LoggingSettings()

    @model_validator(mode="after")
    def _distinct_names(self) -> Self:
        names = [destination.name for destination in self.destinations]
        if twice := sorted({name for name in names if names.count(name) > 1}):
            raise ValueError(f"destination names used twice: {', '.join(twice)}")
        return self
