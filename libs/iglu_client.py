"""An Iglu resolver: schemas looked up in repositories, cached, and compiled into validators once.

Repositories are tried in order: those whose vendor prefixes cover the schema's vendor first,
then by priority (lower first), embedded directories before HTTP ones. The repository kinds
other than the Iglu Server and the directory, and the list an enricher uses (Furrow's built-in
schemas at priority 100), are in `libs.iglu_repositories`. A schema found nowhere is
remembered as missing until the cache TTL ends, so a flood of events with an unknown schema does
not hammer the registry; other failures (registry down, 5xx) are retried with backoff and never
cached. A superseded version validates against the version that supersedes it.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import httpx
import jsonschema_rs
import orjson

from libs import meta_schemas
from libs.config import Settings
from libs.formats.iglu import IgluError, SchemaKey, SchemaVer, schema_key

# Iglu's own keys; a JSON Schema validator has no use for them.
IGLU_KEYWORDS = ("$schema", "self", "$supersedes", "$supersededBy")


class RepositorySettings(Settings):
    """One repository: an Iglu Server (`url`, optional `api_key`), a static HTTP repository
    (`url` and `static`, schemas at `{url}/schemas/vendor/name/format/M-R-A` as on Iglu
    Central) or a directory (`path`) laid out `vendor/name/format/M-R-A`."""

    name: str
    priority: int = 0
    vendor_prefixes: list[str] = []
    url: str | None = None
    api_key: str | None = None
    static: bool = False
    path: Path | None = None


class RepositoryError(Exception):
    """The repository could not answer (unreachable, 5xx, not JSON)."""


class Repository(Protocol):
    settings: RepositorySettings

    def fetch(self, key: SchemaKey) -> dict[str, Any] | None:
        """The schema, or None if the repository does not have it; RepositoryError otherwise."""
        ...


class DirectoryRepository:
    def __init__(self, settings: RepositorySettings) -> None:
        assert settings.path is not None
        self.settings = settings
        self._root = settings.path

    def fetch(self, key: SchemaKey) -> dict[str, Any] | None:
        try:
            schema = orjson.loads((self._root / key.path).read_bytes())
        except FileNotFoundError:
            return None
        except orjson.JSONDecodeError as error:
            raise RepositoryError(f"{self._root / key.path} is not JSON: {error}") from error
        return schema if isinstance(schema, dict) else None


class HttpRepository:
    # Where an Iglu Server keeps its schemas, and the statuses that mean it has not got one.
    schemas_path = "/api/schemas"
    missing_statuses: tuple[int, ...] = (404,)

    def __init__(self, settings: RepositorySettings, *, timeout_s: float = 5.0) -> None:
        assert settings.url is not None
        self.settings = settings
        headers = {"apikey": settings.api_key} if settings.api_key else {}
        self._client = httpx.Client(
            base_url=settings.url.rstrip("/"), headers=headers, timeout=timeout_s
        )

    def fetch(self, key: SchemaKey) -> dict[str, Any] | None:
        try:
            response = self._client.get(f"{self.schemas_path}/{key.path}")
        except httpx.HTTPError as error:
            raise RepositoryError(f"{self.settings.url}: {error!r}") from error
        if response.status_code in self.missing_statuses:
            return None
        if response.status_code != 200:
            raise RepositoryError(f"{self.settings.url} answered {response.status_code}")
        try:
            schema = orjson.loads(response.content)
        except orjson.JSONDecodeError as error:
            raise RepositoryError(f"{self.settings.url} answered non-JSON: {error}") from error
        return schema if isinstance(schema, dict) else None


def repository(settings: RepositorySettings) -> Repository:
    if settings.path is not None:
        return DirectoryRepository(settings)
    if settings.url is not None:
        return HttpRepository(settings)
    raise ValueError(f"repository {settings.name!r} needs a url or a path")


class ResolutionError(Exception):
    """The schema could not be resolved; `lookup_history` says what each repository answered."""

    def __init__(self, key: SchemaKey, lookup_history: list[dict[str, Any]]) -> None:
        super().__init__(f"{key.uri} could not be resolved")
        self.key = key
        self.lookup_history = lookup_history


@dataclass(frozen=True, slots=True)
class Issue:
    """One way an instance breaks its schema."""

    path: str  # JSONPath into the instance's data, e.g. `$.items[2].price`
    message: str
    keyword: str


Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")


@dataclass
class TtlCache(Generic[Key, Value]):
    """At most `size` entries, each forgotten `ttl_s` after it was stored; least recently used
    entries go first when full."""

    size: int
    ttl_s: float
    clock: Callable[[], float] = time.monotonic
    _entries: OrderedDict[Key, tuple[float, Value]] = field(default_factory=OrderedDict)

    def get(self, key: Key) -> Value | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored_at, value = entry
        if self.clock() - stored_at >= self.ttl_s:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    def put(self, key: Key, value: Value) -> None:
        self._entries[key] = (self.clock(), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)


@dataclass(frozen=True, slots=True)
class _Missing:
    lookup_history: list[dict[str, Any]]


class Resolver:
    def __init__(
        self,
        repositories: list[Repository],
        *,
        cache_size: int = 1000,
        cache_ttl_s: float = 600.0,
        attempts: int = 3,
        backoff_s: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._repositories = repositories
        self._schemas: TtlCache[SchemaKey, dict[str, Any] | _Missing] = TtlCache(
            cache_size, cache_ttl_s, clock
        )
        # By schema URI as the instance spells it: a string hashes faster than a SchemaKey, and
        # every entity of every event is looked up here.
        self._validators: TtlCache[str, jsonschema_rs.Draft4Validator] = TtlCache(
            cache_size, cache_ttl_s, clock
        )
        self._attempts = attempts
        self._backoff_s = backoff_s

    @classmethod
    def from_settings(cls, settings: list[RepositorySettings], **options: Any) -> Resolver:
        return cls([repository(entry) for entry in settings], **options)

    def schema(self, key: SchemaKey) -> dict[str, Any]:
        """The schema for `key`; ResolutionError if no repository has it or can answer."""
        cached = self._schemas.get(key)
        if cached is None:
            found, history, answered = self._look_up(key)
            if found is None and not answered:
                # Never cached: an outage must not outlive itself.
                raise ResolutionError(key, history)
            cached = found if found is not None else _Missing(history)
            self._schemas.put(key, cached)
        if isinstance(cached, _Missing):
            raise ResolutionError(key, cached.lookup_history)
        return cached

    def validate(self, instance: dict[str, Any]) -> list[Issue]:
        """Every way `instance` (self-describing JSON) breaks its schema; empty if it is valid.
        IgluError for a malformed schema URI, ResolutionError for a schema that cannot be had."""
        uri = instance["schema"]
        validator = self._validators.get(uri)
        if validator is None:
            validator = _compile(self._effective_schema(schema_key(uri)))
            self._validators.put(uri, validator)
        data = instance["data"]
        # Most instances are valid, and a yes/no answer is cheaper than collecting errors.
        if validator.is_valid(data):
            return []
        return [
            Issue(_json_path(error.instance_path), error.message, _keyword(error.schema_path))
            for error in validator.iter_errors(data)
        ]

    def _effective_schema(self, key: SchemaKey) -> dict[str, Any]:
        schema = self.schema(key)
        successor = schema.get("$supersededBy")
        if isinstance(successor, str):
            try:
                return self.schema(key.with_version(SchemaVer.parse(successor)))
            except IgluError:
                return schema
        return schema

    def _look_up(self, key: SchemaKey) -> tuple[dict[str, Any] | None, list[dict[str, Any]], bool]:
        """The schema if found, what each repository answered, and whether all of them did."""
        history: list[dict[str, Any]] = []
        answered = True
        for source in self._ordered(key):
            errors: list[str] = []
            for attempt in range(self._attempts):
                try:
                    found = source.fetch(key)
                except RepositoryError as error:
                    errors.append(str(error))
                    if attempt + 1 < self._attempts:
                        time.sleep(self._backoff_s * 2**attempt)
                    continue
                if found is not None:
                    return found, history, True
                errors.append("not found")
                break
            else:
                answered = False
            history.append(
                {"repository": source.settings.name, "errors": errors, "attempts": len(errors)}
            )
        return None, history, answered

    def _ordered(self, key: SchemaKey) -> list[Repository]:
        def rank(source: Repository) -> tuple[bool, int, bool]:
            settings = source.settings
            covers = any(
                key.vendor == prefix or key.vendor.startswith(prefix + ".")
                for prefix in settings.vendor_prefixes
            )
            return (not covers, settings.priority, settings.path is None)

        return sorted(self._repositories, key=rank)


def _compile(schema: dict[str, Any]) -> jsonschema_rs.Draft4Validator:
    body = {name: value for name, value in schema.items() if name not in IGLU_KEYWORDS}
    return jsonschema_rs.Draft4Validator(
        body, validate_formats=True, formats={"uuid": _is_uuid}, retriever=meta_schemas.retrieve
    )


# The `uuid` format: the hyphenated hexadecimal form of RFC 4122.
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _is_uuid(value: str) -> bool:
    return _UUID.fullmatch(value) is not None


def _json_path(parts: Any) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _keyword(schema_path: Any) -> str:
    parts = list(schema_path)
    return str(parts[-1]) if parts else ""
