"""The repository kinds beside the Iglu Server and the directory: the schemas that ship with
Furrow, static HTTP repositories laid out as Iglu Central is, and a guard that keeps a
repository that is down from being asked again before its backoff ends.

The built-in schemas are files of this package (`builtin_schemas/vendor/name/format/M-R-A`),
read once and served from memory: no network, no configuration, never written to. The resolver
consults them after the registry and after every repository with a higher priority (a lower
number), so a copy published by the user always wins.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import orjson

from libs.formats.iglu import IgluError, SchemaKey
from libs.iglu_client import (
    ChangeFeed,
    Changes,
    HttpRepository,
    Repository,
    RepositoryError,
    RepositorySettings,
    repository,
)

BUILTIN_SCHEMAS = Path(__file__).resolve().parent / "builtin_schemas"
BUILTIN_NAME = "furrow built-in schemas"
# After the registry (priority 0) and whatever a user ranks before it.
BUILTIN_PRIORITY = 100


class BuiltinRepository:
    """The schemas shipped in `root`, each checked once to name the key its path does."""

    def __init__(self, root: Path = BUILTIN_SCHEMAS, *, priority: int = BUILTIN_PRIORITY) -> None:
        self.settings = RepositorySettings(name=BUILTIN_NAME, priority=priority, path=root)
        self._schemas = dict(_read_schemas(root))

    def fetch(self, key: SchemaKey, *, fresh: bool = False) -> dict[str, Any] | None:
        return self._schemas.get(key)

    def schema_keys(self) -> list[SchemaKey]:
        """Every built-in schema's key, in SchemaVer order."""
        return sorted(self._schemas)


def _read_schemas(root: Path) -> Iterator[tuple[SchemaKey, dict[str, Any]]]:
    for path in sorted(root.glob("*/*/*/*")):
        key = SchemaKey.of(*path.relative_to(root).parts)
        schema = orjson.loads(path.read_bytes())
        # A file that does not say what its path says is a packaging mistake, to be caught
        # by the first test that loads it rather than by the first event that needs it.
        if not isinstance(schema, dict) or SchemaKey.from_self(schema.get("self")) != key:
            raise IgluError(f"{path} does not hold the schema {key.uri}")
        yield key, schema


class StaticHttpRepository(HttpRepository):
    """A web server (or a bucket) of plain files at `{url}/schemas/vendor/name/format/M-R-A`, as
    Iglu Central (`http://iglucentral.com`) serves its schemas."""

    schemas_path = "/schemas"
    # Buckets answer 403 for a file that is not there, when listing is not allowed.
    missing_statuses = (403, 404)


class BackingOff(RepositoryError):
    """The repository failed recently and is not asked again until its backoff ends."""


class BackoffRepository:
    """`inner`, not asked while it is backing off: after a failure, for `first_s`, then twice as
    long after each further failure, up to `max_s`; the first answer ends the backoff. A lookup
    during the backoff fails at once (an outage, never a "not found"), so an unreachable
    repository costs one timeout per backoff period, not one per event."""

    def __init__(
        self,
        inner: Repository,
        *,
        first_s: float = 0.05,
        max_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = inner.settings
        self._inner = inner
        self._first_s = first_s
        self._max_s = max_s
        self._clock = clock
        self._failures = 0
        self._until = 0.0

    def fetch(self, key: SchemaKey, *, fresh: bool = False) -> dict[str, Any] | None:
        now = self._clock()
        if now < self._until:
            raise BackingOff(
                f"{self.settings.name} is backing off for {self._until - now:.2f} s more "
                f"after {self._failures} failures"
            )
        try:
            found = self._inner.fetch(key, fresh=fresh)
        except RepositoryError:
            self._failures += 1
            wait_s = min(self._first_s * 2 ** (self._failures - 1), self._max_s)
            self._until = self._clock() + wait_s
            raise
        self.end_backoff()
        return found

    def end_backoff(self) -> None:
        """The repository answered: the next lookup goes to it whatever its backoff was."""
        self._failures = 0
        self._until = 0.0


class Registry(Repository, ChangeFeed, Protocol):
    """A repository with a change feed: Furrow's registry."""


class BackoffRegistry(BackoffRepository):
    """A Furrow registry behind a backoff for its lookups; its change feed is asked without one
    (a failed poll costs that poll alone), so that its schemas stay live. The feed answering
    again after failing ends the lookups' backoff: after a long outage, that backoff would
    otherwise outlast the outage by up to `max_s`, every lookup failing meanwhile though the
    registry is back (and `furrow replay`, run once it is, sending the events to `bad` again)."""

    def __init__(self, registry: Registry, *, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(registry, clock=clock)
        self._registry = registry
        self._feed_failed = False

    def changes(self, after: int | None) -> Changes:
        try:
            changes = self._registry.changes(after)
        except RepositoryError:
            self._feed_failed = True
            raise
        # Only on its return: a registry whose feed answers while its lookups keep failing is
        # still asked no more than its backoff allows. (The feed is polled from the resolver's
        # own thread; a lookup racing this reset at worst backs off once more.)
        if self._feed_failed:
            self._feed_failed = False
            self.end_backoff()
        return changes


def resolver_repositories(
    settings: list[RepositorySettings], *, builtin_priority: int = BUILTIN_PRIORITY
) -> list[Repository]:
    """The repositories `settings` name, each remote one behind its own backoff, and the
    built-in schemas at `builtin_priority`."""
    found: list[Repository] = []
    for entry in settings:
        if entry.path is not None:
            found.append(repository(entry))
        elif entry.static:
            found.append(BackoffRepository(StaticHttpRepository(entry)))
        else:
            found.append(BackoffRegistry(HttpRepository(entry)))
    return [*found, BuiltinRepository(priority=builtin_priority)]
