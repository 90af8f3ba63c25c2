from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from libs.formats.iglu import IgluError, SchemaKey
from libs.iglu_client import (
    Changes,
    DirectoryRepository,
    RepositoryError,
    RepositorySettings,
    ResolutionError,
    Resolver,
)

ITEM = "iglu:com.acme/item/jsonschema/1-0-0"


def schema(version: str = "1-0-0", **extra: Any) -> dict[str, Any]:
    return {
        "$schema": "http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#",
        "self": {"vendor": "com.acme", "name": "item", "format": "jsonschema", "version": version},
        "type": "object",
        "properties": {
            "sku": {"type": "string", "maxLength": 5},
            "price": {"type": "number", "minimum": 0},
            "id": {"type": "string", "format": "uuid"},
            "email": {"type": "string", "format": "email"},
            "at": {"type": "string", "format": "date-time"},
            "ip": {"type": "string", "format": "ipv4"},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["sku"],
        "additionalProperties": False,
        **extra,
    }


class FakeRepository:
    """Answers from a dict; raises for keys in `failing`; counts fetches and notes, per fetch,
    whether it asked past caches."""

    def __init__(self, name: str, schemas: dict[str, dict[str, Any]], **settings: Any) -> None:
        self.settings = RepositorySettings(name=name, url="http://fake", **settings)
        self.schemas = schemas
        self.failing: set[str] = set()
        self.fetches = 0
        self.fresh: list[tuple[str, bool]] = []

    def fetch(self, key: SchemaKey, *, fresh: bool = False) -> dict[str, Any] | None:
        self.fetches += 1
        self.fresh.append((key.uri, fresh))
        if key.uri in self.failing:
            raise RepositoryError("registry down")
        return self.schemas.get(key.uri)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def repository() -> FakeRepository:
    return FakeRepository("registry", {ITEM: schema()})


def resolver(*repositories: Any, clock: Clock | None = None) -> Resolver:
    return Resolver(list(repositories), backoff_s=0, clock=clock or Clock())


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"sku": "a1"}, []),
        ({"sku": "toolong"}, [("$.sku", "maxLength")]),
        ({"price": -1}, [("$", "required"), ("$.price", "minimum")]),
        ({"sku": "a", "id": "not-a-uuid"}, [("$.id", "format")]),
        ({"sku": "a", "id": "8e5b7c1e-3f4d-4c2b-9a1e-0d9f8e7c6b5a"}, []),
        ({"sku": "a", "email": "nope"}, [("$.email", "format")]),
        ({"sku": "a", "at": "yesterday"}, [("$.at", "format")]),
        ({"sku": "a", "ip": "300.1.1.1"}, [("$.ip", "format")]),
        ({"sku": "a", "tags": ["x", 2]}, [("$.tags[1]", "type")]),
        ({"sku": "a", "extra": 1}, [("$", "additionalProperties")]),
    ],
)
def test_every_issue_with_its_path(
    repository: FakeRepository, data: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    issues = resolver(repository).validate({"schema": ITEM, "data": data})
    assert sorted((issue.path, issue.keyword) for issue in issues) == sorted(expected)
    assert all(issue.message for issue in issues)


def test_schemas_and_validators_are_cached(repository: FakeRepository) -> None:
    resolve = resolver(repository)
    for _ in range(100):
        resolve.validate({"schema": ITEM, "data": {"sku": "a"}})
    assert repository.fetches == 1


def test_cache_entries_expire_after_the_ttl(repository: FakeRepository) -> None:
    clock = Clock()
    resolve = Resolver([repository], cache_ttl_s=60, backoff_s=0, clock=clock)
    resolve.schema(SchemaKey.parse_uri(ITEM))
    clock.now = 59
    resolve.schema(SchemaKey.parse_uri(ITEM))
    clock.now = 61
    resolve.schema(SchemaKey.parse_uri(ITEM))
    assert repository.fetches == 2


def test_not_found_is_cached_for_the_miss_ttl_only(repository: FakeRepository) -> None:
    clock = Clock()
    resolve = Resolver([repository], cache_ttl_s=60, miss_ttl_s=1, backoff_s=0, clock=clock)
    missing = SchemaKey.parse_uri("iglu:com.acme/missing/jsonschema/1-0-0")
    for _ in range(5):
        with pytest.raises(ResolutionError) as raised:
            resolve.schema(missing)
    assert repository.fetches == 1
    (entry,) = raised.value.lookup_history
    assert {name: entry[name] for name in ("repository", "errors", "attempts")} == {
        "repository": "registry",
        "errors": [{"error": "NotFound"}],
        "attempts": 1,
    }
    assert entry["lastAttempt"].endswith("Z")
    repository.schemas[missing.uri] = schema()
    clock.now = 1
    assert resolve.schema(missing)["type"] == "object"


def test_an_outage_is_retried_and_never_cached(repository: FakeRepository) -> None:
    repository.failing.add(ITEM)
    resolve = resolver(repository)
    with pytest.raises(ResolutionError) as raised:
        resolve.schema(SchemaKey.parse_uri(ITEM))
    (entry,) = raised.value.lookup_history
    assert entry["attempts"] == 3
    # The same failure three times is one error, as in Snowplow's lookup history.
    assert entry["errors"] == [{"error": "RepoFailure", "message": "registry down"}]
    repository.failing.clear()
    assert resolve.schema(SchemaKey.parse_uri(ITEM))["type"] == "object"


def test_repositories_by_vendor_prefix_then_priority() -> None:
    first = FakeRepository("first", {ITEM: schema()}, priority=0)
    acme = FakeRepository(
        "acme", {ITEM: schema(description="from acme")}, priority=5, vendor_prefixes=["com.acme"]
    )
    other = FakeRepository(
        "other", {ITEM: schema(description="from other")}, priority=1, vendor_prefixes=["org.other"]
    )
    assert (
        resolver(first, acme, other).schema(SchemaKey.parse_uri(ITEM))["description"] == "from acme"
    )
    sub_vendor = "iglu:com.acme.shop/item/jsonschema/1-0-0"
    acme.schemas[sub_vendor] = schema(description="acme sub-vendor")
    first.schemas[sub_vendor] = schema(description="first")
    assert (
        resolver(first, acme).schema(SchemaKey.parse_uri(sub_vendor))["description"]
        == "acme sub-vendor"
    )
    lookalike = "iglu:com.acmecorp/item/jsonschema/1-0-0"
    acme.schemas[lookalike] = schema(description="acme")
    first.schemas[lookalike] = schema(description="first")
    assert resolver(first, acme).schema(SchemaKey.parse_uri(lookalike))["description"] == "first"


def test_a_repository_without_the_schema_falls_through_to_the_next() -> None:
    empty = FakeRepository("empty", {}, priority=0)
    full = FakeRepository("full", {ITEM: schema()}, priority=1)
    assert resolver(empty, full).validate({"schema": ITEM, "data": {"sku": "a"}}) == []


def test_a_superseded_version_validates_against_its_successor() -> None:
    old = schema("1-0-0", **{"$supersededBy": "1-0-1"})
    new = schema("1-0-1")
    new["properties"]["sku"] = {"type": "string", "maxLength": 50}
    repository = FakeRepository("registry", {ITEM: old, "iglu:com.acme/item/jsonschema/1-0-1": new})
    assert resolver(repository).validate({"schema": ITEM, "data": {"sku": "a-longer-sku"}}) == []


def test_a_directory_repository(tmp_path: Path) -> None:
    (tmp_path / "com.acme/item/jsonschema").mkdir(parents=True)
    (tmp_path / "com.acme/item/jsonschema/1-0-0").write_text(json.dumps(schema()))
    embedded = DirectoryRepository(RepositorySettings(name="embedded", path=tmp_path))
    resolve = Resolver([embedded])
    assert resolve.validate({"schema": ITEM, "data": {"sku": "a"}}) == []
    with pytest.raises(ResolutionError):
        resolve.validate({"schema": "iglu:com.acme/other/jsonschema/1-0-0", "data": {}})


@pytest.mark.parametrize("uri", ["iglu:com.acme/item/jsonschema", "http://x/y", "iglu:a/b/c/1-0"])
def test_malformed_schema_uris(repository: FakeRepository, uri: str) -> None:
    with pytest.raises(IgluError):
        resolver(repository).validate({"schema": uri, "data": {}})


class FeedRepository(FakeRepository):
    """A registry with a change feed: `publish` stores a schema and lists it as changed."""

    def __init__(self, name: str, schemas: dict[str, dict[str, Any]]) -> None:
        super().__init__(name, schemas)
        self.log: list[str] = []
        self.feed_down = False
        self.reset = False

    def publish(self, uri: str, body: dict[str, Any] | None) -> None:
        if body is None:
            self.schemas.pop(uri, None)
        else:
            self.schemas[uri] = body
        self.log.append(uri)

    def changes(self, after: int | None) -> Changes:
        if self.feed_down:
            raise RepositoryError("registry down")
        if self.reset:
            self.reset = False
            return Changes(len(self.log), None)
        if after is None:
            return Changes(len(self.log), None)
        keys = [SchemaKey.parse_uri(uri) for uri in self.log[after:]]
        return Changes(len(self.log), keys)


def eventually(check: Callable[[], bool], timeout_s: float = 2.0) -> float:
    """Seconds until `check` held; fails after `timeout_s`."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < timeout_s, "not within the time"
        time.sleep(0.005)
    return time.monotonic() - started


def valid(resolve: Resolver, uri: str, data: dict[str, Any]) -> bool:
    try:
        return resolve.validate({"schema": uri, "data": data}) == []
    except ResolutionError:
        return False


@pytest.fixture
def live() -> Iterator[tuple[FeedRepository, Resolver]]:
    registry = FeedRepository("registry", {ITEM: schema()})
    # Misses and hits kept far longer than the test: only the feed can make them go.
    resolve = Resolver([registry], cache_ttl_s=3600, miss_ttl_s=3600, backoff_s=0)
    resolve.follow_changes(interval_s=0.01)
    yield registry, resolve
    resolve.close()


def test_a_publication_is_seen_after_a_miss(live: tuple[FeedRepository, Resolver]) -> None:
    registry, resolve = live
    other = "iglu:com.acme/other/jsonschema/1-0-0"
    assert not valid(resolve, other, {"sku": "a"})
    registry.publish(other, schema())
    eventually(lambda: valid(resolve, other, {"sku": "a"}))


def test_a_patch_and_a_deletion_are_seen(live: tuple[FeedRepository, Resolver]) -> None:
    registry, resolve = live
    assert valid(resolve, ITEM, {"sku": "long-sku"}) is False
    patched = schema()
    patched["properties"]["sku"]["maxLength"] = 50
    registry.publish(ITEM, patched)
    eventually(lambda: valid(resolve, ITEM, {"sku": "long-sku"}))
    # The registry is authoritative: a schema it no longer holds validates nothing.
    registry.publish(ITEM, None)
    eventually(lambda: not valid(resolve, ITEM, {"sku": "a"}))


def test_only_the_lookup_after_a_change_asks_past_caches(
    live: tuple[FeedRepository, Resolver],
) -> None:
    """A registry may still cache the copy its feed says is out of date: the lookup the feed
    causes asks it not to answer from that cache."""
    registry, resolve = live
    other = "iglu:com.acme/other/jsonschema/1-0-0"
    assert valid(resolve, ITEM, {"sku": "a"})
    assert not valid(resolve, other, {"sku": "a"})
    registry.publish(other, schema())
    eventually(lambda: valid(resolve, other, {"sku": "a"}))
    registry.schemas[ITEM] = schema(required=["sku", "price"])
    registry.reset = True
    eventually(lambda: not valid(resolve, ITEM, {"sku": "a"}))
    assert registry.fresh == [(ITEM, False), (other, False), (other, True), (ITEM, True)]


def test_a_feed_that_cannot_list_makes_everything_forgotten(
    live: tuple[FeedRepository, Resolver],
) -> None:
    registry, resolve = live
    other = "iglu:com.acme/other/jsonschema/1-0-0"
    assert not valid(resolve, other, {"sku": "a"})
    registry.schemas[other] = schema()
    registry.reset = True
    eventually(lambda: valid(resolve, other, {"sku": "a"}))


def test_without_a_feed_a_miss_lasts_miss_ttl_s_only() -> None:
    registry = FeedRepository("registry", {})
    registry.feed_down = True
    clock = Clock()
    resolve = Resolver([registry], miss_ttl_s=1, backoff_s=0, clock=clock)
    resolve.follow_changes(interval_s=0.01)
    try:
        assert not valid(resolve, ITEM, {"sku": "a"})
        registry.schemas[ITEM] = schema()
        assert not valid(resolve, ITEM, {"sku": "a"})
        clock.now = 1
        assert valid(resolve, ITEM, {"sku": "a"})
    finally:
        resolve.close()
