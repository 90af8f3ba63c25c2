"""An Iglu resolver: schemas looked up in repositories, cached, and compiled into validators once.

Repositories are tried in order: those whose vendor prefixes cover the schema's vendor first,
then by priority (lower first), embedded directories before HTTP ones. The repository kinds
other than the Iglu Server and the directory, and the list an enricher uses (Furrow's built-in
schemas at priority 100), are in `libs.iglu_repositories`. A superseded version validates
against the version that supersedes it.

Schemas are live: `follow_changes` polls each registry's change feed (`GET /api/meta/changes`)
in a background thread, and a schema published, patched or deleted there is dropped from the
caches before the next lookup. A schema found nowhere is remembered as missing for `miss_ttl_s`
only, so a flood of events with an unknown schema costs one lookup per key and period, and a
later publication is never hidden for longer. Other failures (registry down, 5xx) are retried
with backoff, reported in the lookup history as Snowplow's resolver writes it, and never cached.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Protocol, runtime_checkable

import httpx
import jsonschema_rs
import orjson

from libs import meta_schemas
from libs.cache import TtlCache
from libs.config import Settings
from libs.formats.iglu import IgluError, SchemaKey, SchemaVer, schema_key

# Iglu's own keys; a JSON Schema validator has no use for them.
IGLU_KEYWORDS = ("$schema", "self", "$supersedes", "$supersededBy")
# The kinds of error in a lookup history, as Snowplow's resolver names them.
NOT_FOUND: Final = "NotFound"
REPO_FAILURE: Final = "RepoFailure"
CLIENT_FAILURE: Final = "ClientFailure"
# Snowplow's bad-row schemas keep a lookup error's message to this many characters.
MAX_ERROR_MESSAGE_CHARS: Final = 256

log = logging.getLogger(__name__)


class RepositorySettings(Settings):
    """One repository: an Iglu Server (`url`, optional `api_key`), a static HTTP repository
    (`url` and `static`, schemas at `{url}/schemas/vendor/name/format/M-R-A` as on Iglu
    Central) or a directory (`path`) laid out `vendor/name/format/M-R-A`."""

    # A name for the lookup history of bad rows.
    name: str
    # Repositories whose vendor_prefixes cover a schema's vendor are asked first, then lower
    # priorities first.
    priority: int = 0
    vendor_prefixes: list[str] = []
    # An Iglu Server's (or static repository's) base URL, with its API key if it wants one.
    url: str | None = None
    api_key: str | None = None
    # The URL serves files laid out as Iglu Central's, not Iglu Server's API.
    static: bool = False
    # A directory laid out vendor/name/format/M-R-A, instead of a URL.
    path: Path | None = None


class RepositoryError(Exception):
    """The repository could not answer: REPO_FAILURE (unreachable, 5xx, not JSON), or
    CLIENT_FAILURE (it refused the request, a 4xx other than 404: a wrong API key, say)."""

    def __init__(self, message: str, *, kind: str = REPO_FAILURE) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class Changes:
    """What a registry's change feed answered: the cursor to ask from next time, and the schemas
    published, patched or deleted since the cursor asked from (None: too many to list, forget
    everything)."""

    cursor: int
    keys: list[SchemaKey] | None


class Repository(Protocol):
    settings: RepositorySettings

    def fetch(self, key: SchemaKey, *, fresh: bool = False) -> dict[str, Any] | None:
        """The schema, or None if the repository does not have it; RepositoryError otherwise.
        `fresh`: the copy the caller had is out of date, so no cache may answer for the
        repository."""
        ...


class DirectoryRepository:
    def __init__(self, settings: RepositorySettings) -> None:
        assert settings.path is not None
        self.settings = settings
        self._root = settings.path

    def fetch(self, key: SchemaKey, *, fresh: bool = False) -> dict[str, Any] | None:
        try:
            schema = orjson.loads((self._root / key.path).read_bytes())
        except FileNotFoundError:
            return None
        except orjson.JSONDecodeError as error:
            raise RepositoryError(f"{self._root / key.path} is not JSON: {error}") from error
        return schema if isinstance(schema, dict) else None

    def schema_keys(self) -> list[SchemaKey]:
        """The key of every file laid out as vendor/name/format/version, in SchemaVer order."""
        keys = []
        for path in self._root.glob("*/*/*/*"):
            try:
                keys.append(SchemaKey.of(*path.relative_to(self._root).parts))
            except IgluError:
                continue
        return sorted(keys)


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
        # The change feed is read by the resolver's own thread: it gets a client of its own.
        self._feed_client = httpx.Client(
            base_url=settings.url.rstrip("/"), headers=headers, timeout=timeout_s
        )

    def fetch(self, key: SchemaKey, *, fresh: bool = False) -> dict[str, Any] | None:
        headers = {"cache-control": "no-cache"} if fresh else None
        try:
            response = self._client.get(f"{self.schemas_path}/{key.path}", headers=headers)
        except httpx.HTTPError as error:
            raise RepositoryError(f"{self.settings.url}: {error!r}") from error
        if response.status_code in self.missing_statuses:
            return None
        schema = self._json(response)
        return schema if isinstance(schema, dict) else None

    def changes(self, after: int | None) -> Changes:
        """The schemas changed in the registry since cursor `after` (none for None: the feed is
        then only joined)."""
        query = {} if after is None else {"after": str(after)}
        try:
            response = self._feed_client.get("/api/meta/changes", params=query)
        except httpx.HTTPError as error:
            raise RepositoryError(f"{self.settings.url}: {error!r}") from error
        answer = self._json(response)
        try:
            cursor = int(answer["cursor"])
            listed = answer["changes"]
            keys = None if listed is None else [SchemaKey.parse_uri(uri) for uri in listed]
        except (KeyError, TypeError, ValueError, IgluError) as error:
            raise RepositoryError(f"{self.settings.url}: malformed change feed: {error}") from error
        return Changes(cursor, None if after is None else keys)

    def _json(self, response: httpx.Response) -> Any:
        if 400 <= response.status_code < 500:
            # The request itself is wrong (an API key the registry refuses, say): configuration.
            raise RepositoryError(
                f"{self.settings.url} refused the request ({response.status_code})",
                kind=CLIENT_FAILURE,
            )
        if response.status_code != 200:
            raise RepositoryError(f"{self.settings.url} answered {response.status_code}")
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError as error:
            raise RepositoryError(f"{self.settings.url} answered non-JSON: {error}") from error


@runtime_checkable
class ChangeFeed(Protocol):
    """A repository that says which of its schemas changed (Furrow's registry)."""

    settings: RepositorySettings

    def changes(self, after: int | None) -> Changes: ...


def repository(settings: RepositorySettings) -> Repository:
    if settings.path is not None:
        return DirectoryRepository(settings)
    if settings.url is not None:
        return HttpRepository(settings)
    raise ValueError(f"repository {settings.name!r} needs a url or a path")


class ResolutionError(Exception):
    """The schema could not be resolved; `lookup_history` says what each repository answered,
    as Snowplow's resolver writes it: `{repository, errors: [{error, message?}], attempts,
    lastAttempt}`, `error` being NOT_FOUND, REPO_FAILURE or CLIENT_FAILURE."""

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
    # The keyword's arguments at fault: the missing or unexpected properties, the types or
    # values allowed, the limit broken.
    targets: list[Any] | None = None


@dataclass(frozen=True, slots=True)
class _Missing:
    lookup_history: list[dict[str, Any]]


# Put in the queue of changes when a feed cannot list them: every cached schema goes.
_EVERYTHING: Final = None


class Resolver:
    def __init__(
        self,
        repositories: list[Repository],
        *,
        cache_size: int = 1000,
        cache_ttl_s: float = 600.0,
        miss_ttl_s: float = 1.0,
        attempts: int = 3,
        backoff_s: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._repositories = repositories
        self._schemas: TtlCache[SchemaKey, dict[str, Any]] = TtlCache(
            cache_size, cache_ttl_s, clock
        )
        self._missing: TtlCache[SchemaKey, _Missing] = TtlCache(cache_size, miss_ttl_s, clock)
        # By schema URI as the instance spells it: a string hashes faster than a SchemaKey, and
        # every entity of every event is looked up here.
        self._validators: TtlCache[str, jsonschema_rs.Draft4Validator] = TtlCache(
            cache_size, cache_ttl_s, clock
        )
        self._attempts = attempts
        self._backoff_s = backoff_s
        # Filled by the change-feed thread, emptied by the caller's thread before each lookup
        # (appends and pops of a deque need no lock).
        self._changed: deque[SchemaKey | None] = deque()
        # Forgotten because a feed named them: their next lookup asks past every cache (the
        # registry's own may still hold the copy the feed said is out of date).
        self._stale: set[SchemaKey] = set()
        self._stop = threading.Event()
        self._follower: threading.Thread | None = None

    @classmethod
    def from_settings(cls, settings: list[RepositorySettings], **options: Any) -> Resolver:
        return cls([repository(entry) for entry in settings], **options)

    def follow_changes(self, interval_s: float = 0.5) -> None:
        """Poll the change feed of every repository that has one, every `interval_s`, in a
        daemon thread, and forget each schema it names; `close` stops it."""
        feeds = [source for source in self._repositories if isinstance(source, ChangeFeed)]
        if not feeds or self._follower is not None:
            return
        self._follower = threading.Thread(
            target=self._follow, args=(feeds, interval_s), name="iglu-changes", daemon=True
        )
        self._follower.start()

    def close(self) -> None:
        self._stop.set()
        if self._follower is not None:
            self._follower.join(timeout=10)

    def schema(self, key: SchemaKey) -> dict[str, Any]:
        """The schema for `key`; ResolutionError if no repository has it or can answer."""
        if self._changed:
            self._forget_changed()
        cached = self._schemas.get(key)
        if cached is not None:
            return cached
        missing = self._missing.get(key)
        if missing is not None:
            raise ResolutionError(key, missing.lookup_history)
        found, history, answered = self._look_up(key)
        if found is not None:
            self._schemas.put(key, found)
            return found
        if answered:
            self._missing.put(key, _Missing(history))
        # Otherwise never cached: an outage must not outlive itself.
        raise ResolutionError(key, history)

    def validate(self, instance: dict[str, Any]) -> list[Issue]:
        """Every way `instance` (self-describing JSON) breaks its schema; empty if it is valid.
        IgluError for a malformed schema URI, ResolutionError for a schema that cannot be had."""
        if self._changed:
            self._forget_changed()
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
            Issue(
                _json_path(error.instance_path),
                error.message,
                _keyword(error.schema_path),
                _targets(error.kind),
            )
            for error in validator.iter_errors(data)
        ]

    def _forget_changed(self) -> None:
        # A validator may be compiled from the schema superseding its own: all of them go.
        self._validators.clear()
        while self._changed:
            key = self._changed.popleft()
            if key is _EVERYTHING:
                self._stale.update(self._schemas.keys(), self._missing.keys())
                self._schemas.clear()
                self._missing.clear()
            else:
                self._stale.add(key)
                self._schemas.pop(key, None)
                self._missing.pop(key, None)

    def _follow(self, feeds: list[ChangeFeed], interval_s: float) -> None:
        cursors: dict[int, int | None] = {id(feed): None for feed in feeds}
        while not self._stop.is_set():
            for feed in feeds:
                try:
                    changes = feed.changes(cursors[id(feed)])
                except RepositoryError as error:
                    # Cached schemas stay; missing ones are looked up again after miss_ttl_s.
                    log.debug("change feed of %s: %s", feed.settings.name, error)
                    continue
                if cursors[id(feed)] is not None:
                    self._queue_changes(changes.keys)
                cursors[id(feed)] = changes.cursor
            self._stop.wait(interval_s)

    def _queue_changes(self, keys: Iterable[SchemaKey] | None) -> None:
        if keys is None:
            self._changed.append(_EVERYTHING)
        else:
            self._changed.extend(keys)

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
        fresh = key in self._stale
        self._stale.discard(key)
        for source in self._ordered(key):
            errors: list[dict[str, str]] = []
            attempts = 0
            for attempt in range(self._attempts):
                attempts += 1
                try:
                    found = source.fetch(key, fresh=fresh)
                except RepositoryError as error:
                    failure = {
                        "error": error.kind,
                        "message": str(error)[:MAX_ERROR_MESSAGE_CHARS],
                    }
                    if failure not in errors:
                        errors.append(failure)
                    if attempt + 1 < self._attempts:
                        time.sleep(self._backoff_s * 2**attempt)
                    continue
                if found is not None:
                    return found, history, True
                errors.append({"error": NOT_FOUND})
                break
            else:
                answered = False
            history.append(
                {
                    "repository": source.settings.name,
                    "errors": errors,
                    "attempts": attempts,
                    "lastAttempt": _now(),
                }
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


def _targets(kind: Any) -> list[Any] | None:
    value = getattr(kind, "value", None)
    if value is None:
        return None
    listed = value if isinstance(value, list) else [value]
    return [item if isinstance(item, str | int | float | bool) else str(item) for item in listed]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _keyword(schema_path: Any) -> str:
    parts = list(schema_path)
    return str(parts[-1]) if parts else ""
