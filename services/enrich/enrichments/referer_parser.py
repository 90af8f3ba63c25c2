"""`referer_parser`: `refr_medium`, `refr_source` and `refr_term` from `page_referrer`.

- `internal`: the referrer's host is the page's host, or one of `internalDomains` or a subdomain
  of one (Snowplow matches the host exactly; a subdomain counting too saves listing each).
- `search`, `social`, `email` (or any other medium the database has): the host, then the host
  without its leftmost label, and so on, is looked up in the database, first followed by the
  first path segment (entries like `icloud.com/mail`), then alone. The source is the entry's
  name; for `search`, the term is the first of the entry's `parameters` in the referrer's query.
- `unknown`: any other http(s) referrer. A referrer that is not an http(s) URL sets nothing.

The database is Snowplow's `referers-latest.json` format (`{medium: {source: {"domains": [...],
"parameters": [...]}}}`). Without `database`, Furrow's own compact list of well-known sources
(`data/referers.json`) is used; with it, the file `database` in the local directory `uri` (or
in the enrichments directory), so Snowplow's own file can be dropped in. `referrers`, in the same
shape, adds entries on top.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from libs.formats.enriched import EnrichedEvent, tsv_safe
from services.enrich.enrichments.config import Parameters, local_file
from services.enrich.enrichments.urls import host_of, query_parameters, split_url
from services.enrich.model import RawEvent, SelfDescribingJson

NAME = "referer_parser"
# The same referrers come back again and again (a search engine's home page, the site's own
# pages): their classification is cached, LRU, per referrer and page host.
CACHE_SIZE = 10_000
BUILT_IN_DATABASE = "referers.json"


class RefererSource(BaseModel):
    """One source of a referers database; unknown keys are ignored so newer files still load."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    domains: tuple[str, ...] = Field(min_length=1)
    parameters: tuple[str, ...] = ()


RefererDatabase = dict[str, dict[str, RefererSource]]
_REFERER_DATABASE = TypeAdapter(RefererDatabase)


class RefererParserParameters(Parameters):
    internal_domains: tuple[str, ...] = ()
    database: str | None = None
    uri: str | None = None
    referrers: RefererDatabase = {}


class RefererParser:
    """Sets `refr_medium`, `refr_source` and `refr_term`."""

    name = NAME
    reads_derived_contexts = False

    def __init__(self, database: RefererDatabase, internal_domains: tuple[str, ...]) -> None:
        self._sources: dict[str, tuple[str, str, tuple[str, ...]]] = {
            domain.lower(): (medium, source_name, source.parameters)
            for medium, sources in database.items()
            for source_name, source in sources.items()
            for domain in source.domains
        }
        self._internal = tuple(domain.lower() for domain in internal_domains)
        self._cached = lru_cache(maxsize=CACHE_SIZE)(self._classify)

    def apply(self, event: EnrichedEvent, raw: RawEvent) -> list[SelfDescribingJson]:
        referrer = event.get("page_referrer")
        if referrer:
            classified = self._cached(referrer, host_of(event.get("page_url", "")))
            if classified is not None:
                event["refr_medium"], source, term = classified
                if source:
                    event["refr_source"] = source
                if term:
                    event["refr_term"] = term
        return []

    def classify(self, referrer: str, page_url: str) -> tuple[str, str, str] | None:
        """(medium, source, term) of `referrer` seen from `page_url`; None if it is no URL."""
        return self._cached(referrer, host_of(page_url))

    def _classify(self, referrer: str, page_host: str) -> tuple[str, str, str] | None:
        parts = split_url(referrer)
        if parts is None or parts.scheme not in ("http", "https") or not parts.host:
            return None
        host = parts.host
        if host == page_host or self._is_internal(host):
            return ("internal", "", "")
        segment = parts.path.split("/", 2)[1] if parts.path.startswith("/") else ""
        while True:
            found = (segment and self._sources.get(f"{host}/{segment}")) or self._sources.get(host)
            if found:
                medium, source, term_parameters = found
                return (medium, source, _term(parts.query, term_parameters))
            _, dot, host = host.partition(".")
            if not dot or "." not in host:
                return ("unknown", "", "")

    def _is_internal(self, host: str) -> bool:
        return any(host == domain or host.endswith("." + domain) for domain in self._internal)


def _term(query: str, parameters: tuple[str, ...]) -> str:
    if not parameters or not query:
        return ""
    values = query_parameters(query)
    for parameter in parameters:
        # Made TSV-safe as Snowplow makes the term: a tab four spaces, line breaks removed.
        if term := tsv_safe(values.get(parameter, "").strip()):
            return term
    return ""


def read_database(path: Path | None) -> RefererDatabase:
    """The referers database at `path`, or the built-in one; ValueError if it is not one."""
    if path is None:
        text = resources.files(__package__ or "").joinpath("data", BUILT_IN_DATABASE).read_bytes()
    else:
        text = path.read_bytes()
    try:
        return _REFERER_DATABASE.validate_python(orjson.loads(text))
    except orjson.JSONDecodeError as error:
        raise ValueError(f"{path} is not JSON: {error}") from error


def from_config(
    parameters: Mapping[str, Any], extras: Mapping[str, Any], directory: Path
) -> RefererParser:
    settings = RefererParserParameters.model_validate(parameters)
    path = None
    if settings.database is not None:
        path = local_file(settings.uri, settings.database, directory)
    elif settings.uri is not None:
        raise ValueError("uri without database: name the database file too")
    database = read_database(path)
    for medium, sources in settings.referrers.items():
        database.setdefault(medium, {}).update(sources)
    return RefererParser(database, settings.internal_domains)
