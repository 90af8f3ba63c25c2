"""What enrichment configuration files have in common: their parameters' shape, Iglu schema
criteria (`iglu:com.acme/signup/jsonschema/1-*-*`), local data files, and the `events` filter.

Parameter models use Snowplow's camelCase names (`anonOctets`, `internalDomains`) and forbid
unknown keys, so a typo in a configuration file is an error, never silently ignored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from libs.formats.enriched import EnrichedEvent
from libs.formats.iglu import IgluError, schema_key
from services.enrich.model import Enrichment, RawEvent, SelfDescribingJson


class EnrichmentConfigError(ValueError):
    """An enrichment configuration file that cannot be used; the message names the file."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


class Parameters(BaseModel):
    """Base of every enrichment's `parameters` model."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True
    )


_CRITERION = re.compile(
    r"iglu:([a-zA-Z0-9\-_.]+)/([a-zA-Z0-9\-_]+)/([a-zA-Z0-9\-_]+)/"
    r"([1-9][0-9]*|\*)-(0|[1-9][0-9]*|\*)-(0|[1-9][0-9]*|\*)"
)


@dataclass(frozen=True, slots=True)
class SchemaCriterion:
    """Vendor, name and format of a schema, and a SchemaVer where `*` matches any number."""

    vendor: str
    name: str
    format: str
    version: tuple[int | None, int | None, int | None]

    @classmethod
    def parse(cls, text: str) -> SchemaCriterion:
        """`iglu:vendor/name/format/M-R-A`, each of M, R and A a number or `*`; else ValueError."""
        match = _CRITERION.fullmatch(text)
        if match is None:
            raise ValueError(
                f"{text!r} is not a schema criterion like iglu:com.acme/x/jsonschema/1-*-*"
            )
        vendor, name, schema_format, *version = match.groups()
        model, revision, addition = (None if part == "*" else int(part) for part in version)
        return cls(vendor, name, schema_format, (model, revision, addition))

    def matches(self, schema_uri: str) -> bool:
        """Whether the schema `iglu:vendor/name/format/M-R-A` is one this criterion names."""
        try:
            key = schema_key(schema_uri)
        except IgluError:
            return False
        version = key.version
        return key.family == (self.vendor, self.name, self.format) and all(
            wanted is None or wanted == part
            for wanted, part in zip(
                self.version, (version.model, version.revision, version.addition), strict=True
            )
        )


def local_file(uri: str | None, database: str, directory: Path) -> Path:
    """The local file a Snowplow-style `uri` + `database` pair names.

    `uri` is a directory: a `file:` URI or a path, relative paths taken from the enrichments
    `directory`. Furrow downloads nothing at run time, so remote URIs (http, s3, gs) are a
    ValueError that says so.
    """
    if not database or "/" in database or "\\" in database:
        raise ValueError(f"database must be a file name, not {database!r}")
    if uri is None:
        base = directory
    else:
        parts = urlsplit(uri)
        if parts.scheme == "file":
            base = Path(unquote(parts.path))
        elif parts.scheme == "" or len(parts.scheme) == 1:  # a plain path (or a Windows drive)
            base = Path(uri)
        else:
            raise ValueError(
                f"uri {uri!r} is remote; Furrow downloads nothing at run time: put {database} in a "
                "local directory and set uri to that directory (a path or file:///...)"
            )
    path = (directory / base / database) if not base.is_absolute() else base / database
    if not path.is_file():
        raise ValueError(f"{path} does not exist")
    return path


EventType = Literal[
    "struct",
    "ad_impression",
    "transaction",
    "transaction_item",
    "page_view",
    "page_ping",
    "unstruct",
]


class EventSelector(Parameters):
    """One entry of an `events` list: an event type, and for `unstruct` a schema criterion
    (any self-describing event when it has none)."""

    event_type: EventType
    schema_criterion: str | None = Field(default=None, alias="schema")

    @field_validator("schema_criterion")
    @classmethod
    def _is_a_criterion(cls, value: str | None) -> str | None:
        if value is not None:
            SchemaCriterion.parse(value)
        return value


class OnlyForEvents:
    """An enrichment applied only to the events its configuration's `events` list selects."""

    def __init__(self, enrichment: Enrichment, selectors: Sequence[EventSelector]) -> None:
        self._enrichment = enrichment
        unstruct = [s for s in selectors if s.event_type == "unstruct"]
        self._types = frozenset(s.event_type for s in selectors if s.event_type != "unstruct")
        self._schemas = tuple(
            SchemaCriterion.parse(s.schema_criterion) for s in unstruct if s.schema_criterion
        )
        self._any_unstruct = any(s.schema_criterion is None for s in unstruct)

    @property
    def name(self) -> str:
        return self._enrichment.name

    @property
    def reads_derived_contexts(self) -> bool:
        return self._enrichment.reads_derived_contexts

    def apply(self, event: EnrichedEvent, raw: RawEvent) -> list[SelfDescribingJson]:
        if self._selects(event):
            return self._enrichment.apply(event, raw)
        return []

    def _selects(self, event: EnrichedEvent) -> bool:
        event_type = event.get("event", "")
        if event_type != "unstruct":
            return event_type in self._types
        if self._any_unstruct:
            return True
        schema = (
            f"iglu:{event.get('event_vendor', '')}/{event.get('event_name', '')}/"
            f"{event.get('event_format', '')}/{event.get('event_version', '')}"
        )
        return any(criterion.matches(schema) for criterion in self._schemas)
