"""Static HTTP repositories in Iglu Central's layout, and the backoff that keeps a repository
which is down from stalling the enricher (libs/iglu_repositories.py)."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from libs.config import load_config
from libs.formats.iglu import SchemaKey
from libs.iglu_client import (
    ChangeFeed,
    Changes,
    RepositoryError,
    RepositorySettings,
    ResolutionError,
    Resolver,
)
from libs.iglu_repositories import (
    BUILTIN_NAME,
    BackingOff,
    BackoffRegistry,
    BackoffRepository,
    StaticHttpRepository,
    resolver_repositories,
)
from services.enrich.config import EnrichConfig
from tests.schema_trees import write_schema

EVENT = SchemaKey.parse_uri("iglu:com.acme/event/jsonschema/1-0-0")
HIDDEN = SchemaKey.parse_uri("iglu:com.acme/hidden/jsonschema/1-0-0")
BROKEN = SchemaKey.parse_uri("iglu:com.acme/broken/jsonschema/1-0-0")


class StaticFiles(http.server.SimpleHTTPRequestHandler):
    """Files of a directory, as a web server or a bucket serves them: 403 for anything under
    `hidden` (a bucket that does not list), 500 for anything under `broken`."""

    def do_GET(self) -> None:
        if "/hidden/" in self.path:
            self.send_error(403)
        elif "/broken/" in self.path:
            self.send_error(500)
        else:
            super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def iglu_central(tmp_path: Path) -> Iterator[str]:
    """A static web server with `/schemas/com.acme/event/jsonschema/1-0-0`; its base URL."""
    write_schema(tmp_path / "schemas", "com.acme", "event", "1-0-0", type="object")
    handler = functools.partial(StaticFiles, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join()


def static(url: str) -> StaticHttpRepository:
    return StaticHttpRepository(RepositorySettings(name="iglu central", url=url, static=True))


def test_a_static_repository_serves_schemas_at_iglu_centrals_paths(iglu_central: str) -> None:
    found = static(iglu_central).fetch(EVENT)
    assert found is not None
    assert found["self"]["name"] == "event"


def test_a_static_repository_answers_missing_for_404_and_403(iglu_central: str) -> None:
    repository = static(iglu_central)
    assert repository.fetch(SchemaKey.parse_uri("iglu:com.acme/other/jsonschema/1-0-0")) is None
    assert repository.fetch(HIDDEN) is None


def test_a_static_repository_that_fails_is_an_outage_not_a_miss(iglu_central: str) -> None:
    with pytest.raises(RepositoryError, match="500"):
        static(iglu_central).fetch(BROKEN)


def test_the_config_names_a_static_repository_such_as_iglu_central(tmp_path: Path) -> None:
    path = tmp_path / "furrow.toml"
    path.write_text(
        "[[enrich.extra_repositories]]\n"
        'name = "Iglu Central"\n'
        'url = "http://iglucentral.com"\n'
        "static = true\n"
        "priority = 200\n"
    )
    config = load_config(EnrichConfig, "enrich", path=path)
    names = [r.settings.name for r in resolver_repositories(config.repositories())]
    # Ranked by priority: the registry (0), the built-in schemas (100), Iglu Central (200).
    ordered = Resolver(resolver_repositories(config.repositories()))._ordered(EVENT)
    assert names == ["furrow registry", "Iglu Central", BUILTIN_NAME]
    assert [r.settings.name for r in ordered] == ["furrow registry", BUILTIN_NAME, "Iglu Central"]
    repositories = resolver_repositories(config.repositories())
    assert isinstance(repositories[1], BackoffRepository)
    # The registry's change feed is followed through its backoff; a static server has none.
    assert [isinstance(r, ChangeFeed) for r in repositories] == [True, False, False]


# -- backoff --------------------------------------------------------------------------------------


class Flaky:
    """A repository that fails while `down`, and counts what it is asked."""

    settings = RepositorySettings(name="flaky", url="http://flaky.test")

    def __init__(self) -> None:
        self.down = True
        self.asked = 0

    def fetch(self, key: SchemaKey, *, fresh: bool = False) -> dict[str, Any] | None:
        self.asked += 1
        if self.down:
            raise RepositoryError("connection refused")
        return {"self": key.self_object(), "type": "object"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_failing_repository_is_not_asked_again_until_its_backoff_ends() -> None:
    flaky, clock = Flaky(), Clock()
    repository = BackoffRepository(flaky, first_s=1.0, max_s=4.0, clock=clock)
    with pytest.raises(RepositoryError):
        repository.fetch(EVENT)
    with pytest.raises(BackingOff):
        repository.fetch(EVENT)
    assert flaky.asked == 1
    # Each further failure doubles the wait, up to max_s.
    waits = []
    for _ in range(4):
        clock.now += 10
        with pytest.raises(RepositoryError):
            repository.fetch(EVENT)
        started = clock.now
        while True:
            clock.now += 0.5
            try:
                repository.fetch(EVENT)
            except BackingOff:
                continue
            except RepositoryError:
                break
        waits.append(clock.now - started)
    assert waits == [2.0, 4.0, 4.0, 4.0]
    # The first answer ends the backoff.
    flaky.down = False
    clock.now += 10
    assert repository.fetch(EVENT) is not None
    flaky.down = True
    with pytest.raises(RepositoryError):
        repository.fetch(EVENT)
    clock.now += 1.0
    asked = flaky.asked
    with pytest.raises(RepositoryError):
        repository.fetch(EVENT)
    assert flaky.asked == asked + 1


def test_a_repository_that_is_down_never_stalls_lookups_nor_is_cached_as_a_miss() -> None:
    flaky, clock = Flaky(), Clock()
    resolver = Resolver(
        [BackoffRepository(flaky, first_s=5.0, clock=clock)], attempts=1, clock=clock
    )
    with pytest.raises(ResolutionError) as first:
        resolver.schema(EVENT)
    assert first.value.lookup_history[0]["errors"] == [
        {"error": "RepoFailure", "message": "connection refused"}
    ]
    for _ in range(1000):
        with pytest.raises(ResolutionError) as again:
            resolver.schema(EVENT)
    # Not asked again while it backs off: no lookup waits for it.
    assert flaky.asked == 1
    assert "backing off" in again.value.lookup_history[0]["errors"][0]["message"]
    # Back up: the next lookup after the backoff finds the schema; nothing was cached.
    flaky.down = False
    clock.now += 5.0
    assert resolver.schema(EVENT)["self"]["name"] == "event"


class FlakyRegistry(Flaky):
    """A registry with a change feed, down (lookups and feed alike) while `down`."""

    def changes(self, after: int | None) -> Changes:
        if self.down:
            raise RepositoryError("connection refused")
        return Changes(1, [])


def test_a_registry_answering_its_change_feed_ends_the_backoff_of_its_lookups() -> None:
    """A long outage leaves a long backoff; the feed, polled without one, says the registry is
    back, and lookups go to it at once instead of failing until the backoff ends."""
    flaky, clock = FlakyRegistry(), Clock()
    registry = BackoffRegistry(flaky, clock=clock)
    for _ in range(12):
        with pytest.raises(RepositoryError):
            registry.fetch(EVENT)
        clock.now += 60
    with pytest.raises(RepositoryError):
        registry.fetch(EVENT)
    # A feed that fails too leaves the backoff as it is.
    with pytest.raises(RepositoryError):
        registry.changes(1)
    with pytest.raises(BackingOff):
        registry.fetch(EVENT)
    flaky.down = False
    with pytest.raises(BackingOff):
        registry.fetch(EVENT)
    registry.changes(1)
    assert registry.fetch(EVENT) is not None


def test_a_change_feed_that_never_failed_leaves_the_backoff_of_failing_lookups() -> None:
    flaky, clock = FlakyRegistry(), Clock()
    registry = BackoffRegistry(flaky, clock=clock)
    flaky.down = False
    registry.changes(None)
    # Lookups fail (a registry whose schemas cannot be read) while its feed answers.
    flaky.down = True
    with pytest.raises(RepositoryError):
        registry.fetch(EVENT)
    flaky.down = False
    registry.changes(1)
    with pytest.raises(BackingOff):
        registry.fetch(EVENT)
    assert flaky.asked == 1


def test_the_builtin_schemas_answer_while_every_remote_repository_is_down() -> None:
    registry = RepositorySettings(name="furrow registry", url="http://127.0.0.1:9")
    resolver = Resolver(resolver_repositories([registry]), attempts=1)
    web_page = SchemaKey.parse_uri("iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0")
    assert resolver.schema(web_page)["self"]["name"] == "web_page"
