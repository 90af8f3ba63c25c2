"""What each registry request means: rights, lint, caching and storage, with no HTTP in sight.

Every answer is a `Reply` (status and JSON body); every refusal is a `RegistryError` whose
subclass carries the status code Iglu Server gives for it.
"""

from __future__ import annotations

import functools
import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, TypeVar

import anyio.to_thread
import orjson
from prometheus_client import Counter

from iglu_registry import lint, store
from iglu_registry.access import (
    ANONYMOUS,
    SUPER,
    Access,
    MalformedKey,
    Permission,
    check_prefix,
    parse_key,
)
from iglu_registry.config import RegistryConfig
from iglu_registry.store import Filter, SchemaStore, StoredSchema, Written
from libs.cache import TtlCache
from libs.formats.iglu import (
    FORMAT_PATTERN,
    NAME_PATTERN,
    SELF_DESCRIBING_SCHEMA,
    VENDOR_PATTERN,
    IgluError,
    SchemaKey,
    check_part,
)
from libs.iglu_repositories import BuiltinRepository
from libs.version import VERSION

CACHE_LOOKUPS = Counter(
    "furrow_registry_cache_lookups_total", "Reads answered from the cache or not", ["result"]
)
CACHE_HITS, CACHE_MISSES = CACHE_LOOKUPS.labels("hit"), CACHE_LOOKUPS.labels("miss")
WRITES = Counter("furrow_registry_writes_total", "Schema and key writes by outcome", ["outcome"])

Result = TypeVar("Result")


class RegistryError(Exception):
    """A refused request: `status`, a message and, for lint failures, a report of problems."""

    status: ClassVar[int] = 400

    def __init__(self, message: str, report: list[lint.Problem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.report = report

    def to_json(self) -> dict[str, Any]:
        answer: dict[str, Any] = {"message": self.message}
        if self.report is not None:
            answer["report"] = [problem.to_json() for problem in self.report]
        return answer


class BadRequest(RegistryError):
    status = 400


class Forbidden(RegistryError):
    status = 403


class NotFound(RegistryError):
    status = 404


class Conflict(RegistryError):
    status = 409


class TooLarge(RegistryError):
    status = 413


class Unavailable(RegistryError):
    status = 503


class Representation(StrEnum):
    """How a schema is shown: its URI, its body (`canonical`), or its key and metadata."""

    URI = "uri"
    CANONICAL = "canonical"
    META = "meta"

    @classmethod
    def parse(cls, value: str | None, default: Representation) -> Representation:
        if value is None:
            return default
        try:
            return cls(value)
        except ValueError:
            raise BadRequest(f"repr must be one of uri, canonical, meta, not {value!r}") from None


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes

    @classmethod
    def json(cls, document: object, status: int = 200) -> Reply:
        return cls(status, orjson.dumps(document))


class Registry:
    """The schema registry over a `SchemaStore`, with the rules of `config`."""

    def __init__(
        self,
        config: RegistryConfig,
        schemas: SchemaStore,
        builtins: BuiltinRepository | None = None,
    ) -> None:
        self.config = config
        self.store = schemas
        self.builtins = _builtin_schemas(builtins or BuiltinRepository())
        self._reads: TtlCache[tuple[object, ...], Reply] = TtlCache(
            config.cache_entries, config.cache_ttl_s
        )
        self._keys: TtlCache[str, Access] = TtlCache(config.cache_entries, config.cache_ttl_s)
        # The latest change this process's reads are known to include, and when it was checked.
        self._seen_change: int | None = None
        self._change_checked_at = float("-inf")

    async def access(self, apikey: str | None) -> Access:
        """The caller's rights from the `apikey` header; an unknown key has no more than none."""
        if not apikey:
            return ANONYMOUS
        if self.config.super_key and hmac.compare_digest(
            apikey.encode(), self.config.super_key.encode()
        ):
            return SUPER
        try:
            key = parse_key(apikey)
        except MalformedKey as error:
            raise BadRequest(str(error)) from None
        if (known := self._keys.get(key)) is not None:
            return known
        found = await _blocking(self.store.find_key, key) or ANONYMOUS
        self._keys.put(key, found)
        return found

    async def cached(
        self,
        apikey: str | None,
        slot: tuple[object, ...],
        read: Callable[[Access], Awaitable[Reply]],
        *,
        fresh: bool = False,
    ) -> Reply:
        """The reply to the read `slot` (e.g. a raw path and query) for the caller with `apikey`,
        computed by `read` on a miss, or always when `fresh` (a `Cache-Control: no-cache`
        request: a resolver told by the change feed that its copy is out of date). A hit needs
        no parsing and no key lookup; errors are cached too, since resolvers repeat their
        misses."""
        cache_key = (apikey, *slot)
        await self._forget_reads_changed_elsewhere()
        if not fresh and (reply := self._reads.get(cache_key)) is not None:
            CACHE_HITS.inc()
            return reply
        CACHE_MISSES.inc()
        generation = self._reads.generation
        try:
            reply = await read(await self.access(apikey))
        except (NotFound, BadRequest) as error:
            reply = Reply.json(error.to_json(), error.status)
        # A write committed while the database was read empties the cache: this reply may
        # predate it, and is not kept.
        self._reads.put(cache_key, reply, generation)
        return reply

    async def _forget_reads_changed_elsewhere(self) -> None:
        """Empty the read cache once another process sharing the database has changed a schema:
        its change feed is looked at every `change_check_s` at most."""
        now = time.monotonic()
        if now - self._change_checked_at < self.config.change_check_s:
            return
        self._change_checked_at = now
        latest = await _blocking(self.store.latest_change)
        if latest is not None and latest != self._seen_change:
            self._seen_change = latest
            self._reads.clear()

    async def changes(self, access: Access, after: str | None) -> Reply:
        """The change feed: `{"cursor": N, "changes": [uri, ...]}`, the schemas the caller may
        read that were published, patched or deleted since cursor `after` (none without one;
        `changes` null when the cursor is unknown or too far behind: forget them all)."""
        cursor: int | None = None
        if after is not None:
            if not after.isdigit():
                raise BadRequest(f"after must be a cursor from an earlier answer, not {after!r}")
            cursor = int(after)
        found = await _blocking(self.store.changes, cursor)
        listed = (
            None
            if found.keys is None
            else [
                key.uri for key, is_public in found.keys if access.can_read(key.vendor, is_public)
            ]
        )
        return Reply.json({"cursor": found.cursor, "changes": listed})

    async def list_schemas(
        self, access: Access, which: Filter, representation: Representation
    ) -> Reply:
        """The readable schemas that `which` matches; 404 for an empty vendor-level listing."""
        stored = await _blocking(self.store.list, which)
        # A published copy of a built-in schema hides it.
        published = {schema.key for schema in stored}
        schemas = sorted(
            [
                *stored,
                *(
                    schema
                    for key, schema in self.builtins.items()
                    if key not in published and _matches(which, key)
                ),
            ],
            key=lambda schema: schema.key,
        )
        readable = [s for s in schemas if access.can_read(s.key.vendor, s.is_public)]
        if not readable and which.vendor is not None:
            raise NotFound(f"no schemas found under {_filter_path(which)}")
        return Reply.json([_represent(schema, representation) for schema in readable])

    async def read_schema(
        self, access: Access, key: SchemaKey, representation: Representation
    ) -> Reply:
        schema = await self._readable(access, key)
        return Reply.json(_represent(schema, representation))

    async def publish(
        self, access: Access, body: object, *, key: SchemaKey | None, is_public: bool
    ) -> Reply:
        """Lint and store `body`: at `key` (PUT, `self` optional) or at its `self` (POST)."""
        if not isinstance(body, dict):
            raise BadRequest("the body must be a JSON object: a self-describing JSON Schema")
        if key is None:
            key = _declared_key(body)
        elif "self" not in body:
            # A plain JSON Schema: the URL says what it is; its own `$schema` (usually draft-04's)
            # gives way to the self-describing meta-schema.
            rest = {name: value for name, value in body.items() if name != "$schema"}
            body = {"$schema": SELF_DESCRIBING_SCHEMA, "self": key.self_object(), **rest}
        if not access.can_write(key.vendor):
            raise Forbidden(f"this API key cannot write schemas of vendor {key.vendor}")
        problems = lint.lint(body, key)
        if lint.errors(problems):
            raise BadRequest("the schema is invalid", problems)
        try:
            written = await _blocking(
                functools.partial(
                    self.store.put,
                    key,
                    body,
                    is_public=is_public,
                    supersedes=lint.supersedes(body),
                    allow_patches=self.config.allow_patches,
                    built_in=[k.version for k in self.builtins if k.family == key.family],
                )
            )
        except store.Conflict as error:
            WRITES.labels("conflict").inc()
            raise Conflict(str(error)) from None
        except store.Busy as error:
            raise Unavailable(str(error)) from None
        finally:
            self._reads.clear()
        WRITES.labels(written.value).inc()
        created = written is Written.CREATED
        return Reply.json(
            {
                "message": "Schema created" if created else "Schema updated",
                "updated": not created,
                "location": key.uri,
                "status": 201 if created else 200,
            },
            201 if created else 200,
        )

    async def delete(self, access: Access, key: SchemaKey) -> Reply:
        if not access.can_write(key.vendor):
            raise Forbidden(f"this API key cannot delete schemas of vendor {key.vendor}")
        if not self.config.allow_patches:
            raise Forbidden("deleting schemas is disabled: this registry does not allow patches")
        deleted = await _blocking(self.store.delete, key)
        self._reads.clear()
        if not deleted:
            raise NotFound(f"{key.uri} does not exist")
        WRITES.labels("deleted").inc()
        return Reply.json({"message": "Schema deleted", "location": key.uri})

    async def create_keys(self, access: Access, body: object) -> Reply:
        _require_super(access, "make API keys")
        if not isinstance(body, dict) or "vendorPrefix" not in body:
            raise BadRequest('the body must be {"vendorPrefix": "com.acme"}')
        try:
            prefix = check_prefix(body["vendorPrefix"])
        except IgluError as error:
            raise BadRequest(str(error)) from None
        keys = await _blocking(self.store.create_keys, prefix)
        # Replies are cached per raw key, and a key unknown until now answered as anonymous.
        self._reads.clear()
        return Reply.json({"read": keys[Permission.READ], "write": keys[Permission.WRITE]}, 201)

    async def delete_key(self, access: Access, key: str | None) -> Reply:
        _require_super(access, "delete API keys")
        if not key:
            raise BadRequest("name the key to delete: DELETE /api/auth/keygen?key=UUID")
        try:
            canonical = parse_key(key)
        except MalformedKey as error:
            raise BadRequest(str(error)) from None
        deleted = await _blocking(self.store.delete_key, canonical)
        self._keys.clear()
        self._reads.clear()
        if not deleted:
            raise NotFound(f"there is no API key {canonical}")
        return Reply.json({"message": "Key deleted", "key": canonical})

    def lint_schema(self, body: object) -> Reply:
        problems = lint.lint(body)
        if lint.errors(problems):
            raise BadRequest("The schema is invalid", problems)
        # Warnings do not make a schema invalid; they are reported all the same.
        return Reply.json(
            {"message": "The schema is valid", "report": [p.to_json() for p in problems]}
        )

    async def validate_instance(self, access: Access, body: object) -> Reply:
        if not isinstance(body, dict) or not isinstance(body.get("schema"), str):
            raise BadRequest('the body must be {"schema": "iglu:vendor/name/format/M-R-A", ...}')
        if "data" not in body:
            raise BadRequest("the body has no data to validate")
        key = _parse(SchemaKey.parse_uri, body["schema"])
        schema = await self._readable(access, key)
        if problems := lint.validate_instance(schema.body, body["data"]):
            raise BadRequest(f"The instance is invalid against {key.uri}", problems)
        return Reply.json({"message": "The instance is valid", "report": []})

    async def server_info(self, access: Access) -> Reply:
        return Reply.json(
            {
                "version": VERSION,
                "database": self.store.backend,
                "schemaCount": await _blocking(self.store.count),
                "builtInSchemaCount": len(self.builtins),
                "patchesAllowed": self.config.allow_patches,
                "superKeyConfigured": self.config.super_key is not None,
                "authInfo": {
                    "vendorPrefix": access.vendor_prefix,
                    "permission": "super" if access.is_super else access.permission,
                },
            }
        )

    async def database_healthy(self) -> bool:
        return await _blocking(self.store.ping)

    async def _readable(self, access: Access, key: SchemaKey) -> StoredSchema:
        schema = await _blocking(self.store.get, key) or self.builtins.get(key)
        # A private schema the caller may not read looks exactly like a missing one.
        if schema is None or not access.can_read(key.vendor, schema.is_public):
            raise NotFound(f"{key.uri} does not exist")
        return schema


def parse_key_path(vendor: str, name: str, format: str, version: str) -> SchemaKey:
    """The key in a schema URL, or BadRequest naming the part that is invalid."""
    return _parse(SchemaKey.of, vendor, name, format, version)


def check_filter(which: Filter) -> Filter:
    """`which` if its vendor, name and format are valid Iglu parts, else BadRequest."""
    for field, value, pattern in (
        ("vendor", which.vendor, VENDOR_PATTERN),
        ("name", which.name, NAME_PATTERN),
        ("format", which.format, FORMAT_PATTERN),
    ):
        if value is not None:
            try:
                check_part(field, value, pattern)
            except IgluError as error:
                raise BadRequest(str(error)) from None
    return which


def parse_bool(name: str, value: str | None, default: bool) -> bool:
    if value is None:
        return default
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise BadRequest(f"{name} must be true or false, not {value!r}")


def _require_super(access: Access, what: str) -> None:
    if not access.is_super:
        raise Forbidden(f"only the super API key can {what}")


def _declared_key(body: dict[str, Any]) -> SchemaKey:
    if "self" not in body:
        raise BadRequest(
            "a schema sent with POST must be self-describing: `self` names its key",
            [lint.Problem("/self", "missing")],
        )
    try:
        return SchemaKey.from_self(body["self"])
    except IgluError as error:
        problem = lint.Problem("/self", str(error))
        raise BadRequest("the schema's `self` is invalid", [problem]) from None


def _parse(parser: Callable[..., Result], *arguments: str) -> Result:
    try:
        return parser(*arguments)
    except IgluError as error:
        raise BadRequest(str(error)) from None


def _represent(schema: StoredSchema, representation: Representation) -> object:
    if representation is Representation.URI:
        return schema.key.uri
    if representation is Representation.META:
        return {
            "self": schema.key.self_object(),
            "metadata": {
                "createdAt": _timestamp(schema.created_at),
                "updatedAt": _timestamp(schema.updated_at),
                "isPublic": schema.is_public,
                **({"builtIn": True} if schema.builtin else {}),
            },
        }
    if schema.superseded_by is None:
        return schema.body
    return {**schema.body, "$supersededBy": str(schema.superseded_by)}


def _builtin_schemas(builtins: BuiltinRepository) -> dict[SchemaKey, StoredSchema]:
    loaded_at = datetime.now(UTC)
    schemas: dict[SchemaKey, StoredSchema] = {}
    for key in builtins.schema_keys():
        body = builtins.fetch(key)
        assert body is not None
        schemas[key] = StoredSchema(key, body, True, loaded_at, loaded_at, builtin=True)
    return schemas


def _matches(which: Filter, key: SchemaKey) -> bool:
    return all(
        wanted is None or wanted == value
        for wanted, value in (
            (which.vendor, key.vendor),
            (which.name, key.name),
            (which.format, key.format),
        )
    )


def _timestamp(moment: datetime) -> str:
    # SQLite hands back naive datetimes; everything was stored in UTC.
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _filter_path(which: Filter) -> str:
    return "/".join(part for part in (which.vendor, which.name, which.format) if part)


async def _blocking(function: Callable[..., Result], *arguments: Any) -> Result:
    return await anyio.to_thread.run_sync(function, *arguments)
