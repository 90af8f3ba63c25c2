"""Which events a destination gets: its `[forward.destinations.filter]` made into a predicate over
the columns of an enriched line.

The conditions are Snowbridge's, combined freely with all/any/not instead of chained one after
the other: an event's name, its app id, its own schema, the schema of one of its entities, and a
regex on an atomic field. A regex matches anywhere in the field (anchor it with ^ and $ for the
whole), and is tried on the field as the enriched TSV writes it, an empty string when the field
is empty; timestamps read `2026-11-23 10:00:00.123`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import orjson

from libs.formats.enriched import FIELD_NAMES
from services.forward.config import FilterSettings

_POSITIONS = {name: position for position, name in enumerate(FIELD_NAMES)}
_APP_ID = _POSITIONS["app_id"]
_EVENT_NAME = _POSITIONS["event_name"]
_EVENT_SCHEMA = tuple(
    _POSITIONS[name] for name in ("event_vendor", "event_name", "event_format", "event_version")
)
_ENTITY_COLUMNS = (_POSITIONS["contexts"], _POSITIONS["derived_contexts"])


class FilteredEvent:
    """An enriched line's columns, with the schemas of its entities read once, when a condition
    first asks for them."""

    def __init__(self, columns: Sequence[str]) -> None:
        self.columns = columns
        self._entity_schemas: list[str] | None = None

    def event_schema(self) -> str:
        vendor, name, format_, version = (self.columns[position] for position in _EVENT_SCHEMA)
        return f"iglu:{vendor}/{name}/{format_}/{version}"

    def entity_schemas(self) -> list[str]:
        if self._entity_schemas is None:
            self._entity_schemas = [
                schema
                for position in _ENTITY_COLUMNS
                for schema in _schemas_of(self.columns[position])
            ]
        return self._entity_schemas


EventFilter = Callable[[FilteredEvent], bool]


def compile_filter(settings: FilterSettings | None) -> EventFilter | None:
    """The predicate `settings` describe; None when there are none (every event passes)."""
    if settings is None:
        return None
    return _predicate(settings)


def _predicate(settings: FilterSettings) -> EventFilter:
    if settings.all is not None:
        parts = [_predicate(part) for part in settings.all]
        return lambda event: all(part(event) for part in parts)
    if settings.any is not None:
        parts = [_predicate(part) for part in settings.any]
        return lambda event: any(part(event) for part in parts)
    if settings.negated is not None:
        negated = _predicate(settings.negated)
        return lambda event: not negated(event)
    if settings.event_name is not None:
        return _column_in(_EVENT_NAME, frozenset(settings.event_name))
    if settings.app_id is not None:
        return _column_in(_APP_ID, frozenset(settings.app_id))
    if settings.event_schema is not None:
        event_schema = _schema_matcher(settings.event_schema)
        return lambda event: event_schema(event.event_schema())
    if settings.entity_schema is not None:
        entity_schema = _schema_matcher(settings.entity_schema)
        return lambda event: any(entity_schema(schema) for schema in event.entity_schemas())
    assert settings.field is not None and settings.regex is not None
    position, search = _POSITIONS[settings.field], re.compile(settings.regex).search
    return lambda event: search(event.columns[position]) is not None


def _column_in(position: int, values: frozenset[str]) -> EventFilter:
    return lambda event: event.columns[position] in values


def _schema_matcher(patterns: Sequence[str]) -> Callable[[str], bool]:
    """Whether a schema URI is one of `patterns`, a `*` standing for any number in a version."""
    alternatives = "|".join(re.escape(pattern).replace(r"\*", "[0-9]+") for pattern in patterns)
    fullmatch = re.compile(alternatives).fullmatch
    return lambda schema: fullmatch(schema) is not None


def _schemas_of(column: str) -> list[str]:
    """The schemas of the entities in a `contexts` column; none when it is empty or unreadable
    (an enricher writes only valid contexts, and the event's JSON reports an invalid one)."""
    if not column:
        return []
    try:
        entities = orjson.loads(column)["data"]
        return [entity["schema"] for entity in entities if isinstance(entity["schema"], str)]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return []
