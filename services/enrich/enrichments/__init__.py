"""The configurable enrichments, each switched on by a self-describing JSON file in Snowplow's
format, and `load_enrichments`, which reads a directory of them.

A file is `{"schema": "iglu:<vendor>/<name>/jsonschema/<M-R-A>", "data": {"vendor": ...,
"name": ..., "enabled": true, "parameters": {...}}}`. The enrichments run in this order,
whatever the files are called:

1. `ip_lookups`: geo and network fields from the full IP address,
2. `anon_ip`: then the address is anonymised,
3. `ua_parser_config`: browser, OS and device from the user agent,
4. `referer_parser`: `refr_medium/source/term`,
5. `campaign_attribution`: `mkt_*` from the page URL,
6. `cookie_extractor_config`: cookies as derived contexts,
7. `http_header_extractor_config`: headers as derived contexts,
8. `event_fingerprint_config`: `event_fingerprint` from the raw parameters,
9. `pii_enrichment_config`: last, so it masks the values the others set.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError

from services.enrich.enrichments import (
    anon_ip,
    campaign_attribution,
    cookie_extractor,
    event_fingerprint,
    http_header_extractor,
    ip_lookups,
    pii,
    referer_parser,
    ua_parser_config,
)
from services.enrich.enrichments.config import (
    EnrichmentConfigError,
    EventSelector,
    OnlyForEvents,
)
from services.enrich.model import Enrichment

__all__ = ["ORDER", "EnrichmentConfigError", "load_enrichments"]

SNOWPLOW = "com.snowplowanalytics.snowplow"
SNOWPLOW_ENRICHMENTS = "com.snowplowanalytics.snowplow.enrichments"

Builder = Callable[[Mapping[str, Any], Mapping[str, Any], Path], Enrichment]


@dataclass(frozen=True, slots=True)
class _Kind:
    name: str
    models: frozenset[int]
    """The schema MODEL versions whose parameters this implementation reads."""
    build: Builder
    extras: frozenset[str] = frozenset()
    """Keys of `data` besides vendor, name, enabled, parameters and events."""


_KINDS: tuple[_Kind, ...] = (
    _Kind(ip_lookups.NAME, frozenset({2}), ip_lookups.from_config),
    _Kind(anon_ip.NAME, frozenset({1}), anon_ip.from_config),
    _Kind(ua_parser_config.NAME, frozenset({1}), ua_parser_config.from_config),
    _Kind(referer_parser.NAME, frozenset({1, 2}), referer_parser.from_config),
    _Kind(campaign_attribution.NAME, frozenset({1}), campaign_attribution.from_config),
    _Kind(cookie_extractor.NAME, frozenset({1}), cookie_extractor.from_config),
    _Kind(http_header_extractor.NAME, frozenset({1}), http_header_extractor.from_config),
    _Kind(event_fingerprint.NAME, frozenset({1}), event_fingerprint.from_config),
    _Kind(pii.NAME, frozenset({2}), pii.from_config, frozenset({"emitEvent", "anonymousOnly"})),
)
ORDER: tuple[str, ...] = tuple(kind.name for kind in _KINDS)
"""Enrichment names in the order they run."""

_BY_NAME = {kind.name: kind for kind in _KINDS}
_COMMON_KEYS = frozenset({"vendor", "name", "enabled", "parameters", "events"})
_EVENTS = TypeAdapter(tuple[EventSelector, ...] | None)


def load_enrichments(directory: Path) -> list[Enrichment]:
    """The enabled enrichments configured by the `*.json` files in `directory`, in `ORDER`.

    Raises EnrichmentConfigError, naming the file, for a file that is not a self-describing
    enrichment configuration, an unknown schema, bad parameters, or a second file for the same
    enrichment.
    """
    if not directory.is_dir():
        raise EnrichmentConfigError(directory, "is not a directory of enrichment configurations")
    loaded: dict[str, tuple[Path, Enrichment]] = {}
    for path in sorted(directory.glob("*.json")):
        kind, data = _read(path)
        if kind.name in loaded:
            raise EnrichmentConfigError(
                path, f"{kind.name} is configured a second time (first in {loaded[kind.name][0]})"
            )
        if data["enabled"]:
            loaded[kind.name] = (path, _build(path, kind, data, directory))
    return [loaded[name][1] for name in ORDER if name in loaded]


def _read(path: Path) -> tuple[_Kind, dict[str, Any]]:
    try:
        document = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as error:
        raise EnrichmentConfigError(path, f"not JSON: {error}") from error
    if not isinstance(document, dict) or not isinstance(document.get("schema"), str):
        raise EnrichmentConfigError(path, 'not self-describing JSON: no "schema" string')
    schema = document["schema"]
    kind = _kind_of(path, schema)
    data = document.get("data")
    if not isinstance(data, dict):
        raise EnrichmentConfigError(path, '"data" must be an object')
    if data.get("name") != kind.name:
        raise EnrichmentConfigError(
            path, f"data.name is {data.get('name')!r}, the schema says {kind.name!r}"
        )
    if not isinstance(data.get("enabled"), bool):
        raise EnrichmentConfigError(path, "data.enabled must be true or false")
    if unknown := data.keys() - _COMMON_KEYS - kind.extras:
        raise EnrichmentConfigError(path, f"unknown keys in data: {sorted(unknown)}")
    return kind, data


def _kind_of(path: Path, schema: str) -> _Kind:
    prefix, _, rest = schema.partition(":")
    parts = rest.split("/")
    if prefix != "iglu" or len(parts) != 4 or parts[2] != "jsonschema":
        raise EnrichmentConfigError(
            path, f"schema {schema!r} is not iglu:vendor/name/jsonschema/M-R-A"
        )
    vendor, name, _, version = parts
    kind = _BY_NAME.get(name)
    if kind is None or vendor not in (SNOWPLOW, SNOWPLOW_ENRICHMENTS):
        known = ", ".join(ORDER)
        raise EnrichmentConfigError(path, f"unknown enrichment schema {schema} (known: {known})")
    model = version.split("-")[0]
    if not model.isdigit() or int(model) not in kind.models:
        supported = ", ".join(f"{m}-*-*" for m in sorted(kind.models))
        raise EnrichmentConfigError(
            path, f"schema version {version} of {name} is not supported (supported: {supported})"
        )
    return kind


def _build(path: Path, kind: _Kind, data: dict[str, Any], directory: Path) -> Enrichment:
    parameters = data.get("parameters", {})
    if not isinstance(parameters, dict):
        raise EnrichmentConfigError(path, "data.parameters must be an object")
    extras = {key: data[key] for key in kind.extras if key in data}
    try:
        enrichment = kind.build(parameters, extras, directory)
        selectors = _EVENTS.validate_python(data.get("events"))
    except ValidationError as error:
        raise EnrichmentConfigError(path, f"bad parameters for {kind.name}:\n{error}") from error
    except ValueError as error:
        raise EnrichmentConfigError(path, f"bad parameters for {kind.name}: {error}") from error
    return enrichment if selectors is None else OnlyForEvents(enrichment, selectors)
