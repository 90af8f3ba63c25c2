"""Schemas and API keys in the database: blocking calls, run in a worker thread by the service.

The store enforces what needs the database to decide: the publishing order, one `isPublic`
per schema, overwrites only with patches allowed, and exactly one winner when two writers race
on the same version (the unique key decides).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import orjson
from sqlalchemy import Engine, delete, func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from iglu_registry import db
from iglu_registry.access import Access, Permission
from iglu_registry.models import ApiKeyRow, SchemaChangeRow, SchemaRow
from libs.formats.iglu import SchemaKey, SchemaVer, order_problem


class Conflict(Exception):
    """The write contradicts what is stored (order, visibility, an existing version)."""


class Busy(Exception):
    """The database could not take the write in time; the client may retry."""


class Written(Enum):
    CREATED = "created"
    UPDATED = "updated"


@dataclass(frozen=True)
class StoredSchema:
    key: SchemaKey
    body: dict[str, Any]
    is_public: bool
    created_at: datetime
    updated_at: datetime
    superseded_by: SchemaVer | None = None
    # One of the schemas that ship with Furrow, served from its files, not from the database.
    builtin: bool = False


@dataclass(frozen=True)
class Changes:
    """The change feed from a cursor: the cursor to ask from next, and the keys changed (each
    with its visibility), or None when the cursor is unknown here or too far behind to list."""

    cursor: int
    keys: list[tuple[SchemaKey, bool]] | None


@dataclass(frozen=True)
class Filter:
    """Which schemas a listing covers; None matches anything."""

    vendor: str | None = None
    name: str | None = None
    format: str | None = None


class SchemaStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = engine.execution_options(**db.WRITES)

    @property
    def backend(self) -> str:
        """`sqlite` or `postgresql`."""
        return self.engine.dialect.name

    def ping(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except OperationalError:
            return False
        return True

    def count(self) -> int:
        with Session(self.engine) as session:
            return int(session.scalar(select(func.count()).select_from(SchemaRow)) or 0)

    def list(self, which: Filter) -> list[StoredSchema]:
        """The matching schemas in key order (vendor, name, format, SchemaVer)."""
        query = select(SchemaRow)
        if which.vendor is not None:
            query = query.where(SchemaRow.vendor == which.vendor)
        if which.name is not None:
            query = query.where(SchemaRow.name == which.name)
        if which.format is not None:
            query = query.where(SchemaRow.format == which.format)
        with Session(self.engine) as session:
            rows = session.scalars(query).all()
        return sorted(_with_superseded_by(rows), key=lambda schema: schema.key)

    def get(self, key: SchemaKey) -> StoredSchema | None:
        with Session(self.engine) as session:
            rows = session.scalars(_family(key)).all()
        return next((s for s in _with_superseded_by(rows) if s.key == key), None)

    def put(
        self,
        key: SchemaKey,
        body: dict[str, Any],
        *,
        is_public: bool,
        supersedes: Sequence[SchemaVer],
        allow_patches: bool,
        built_in: Collection[SchemaVer] = (),
    ) -> Written:
        """Store `body` as `key`: CREATED, UPDATED (an overwrite, only with `allow_patches`), or
        Conflict saying what is wrong. `built_in` names the versions of the schema that ship
        with Furrow: they count as published for the order, and publishing one of them is
        always in order."""
        now = datetime.now(UTC)
        try:
            with Session(self._writer) as session, session.begin():
                family = {_version(row): row for row in session.scalars(_family(key))}
                if (existing := family.get(key.version)) is not None and not allow_patches:
                    raise Conflict(f"{key.uri} already exists and this registry forbids patches")
                if key.version not in built_in:
                    _check_order(key, {*family, *built_in})
                _check_visibility(key, family, is_public)
                if unknown := [str(v) for v in supersedes if v not in family]:
                    raise Conflict(f"{key.uri} supersedes {', '.join(unknown)}, which do not exist")
                row = existing or _new_row(key, body, now)
                row.is_public = is_public
                row.body = orjson.dumps(body).decode()
                row.supersedes = orjson.dumps([str(v) for v in supersedes]).decode()
                row.updated_at = now
                session.add(row)
                session.flush()
                # The versions it supersedes now read with `$supersededBy`: changed too.
                changed = [key, *(key.with_version(version) for version in supersedes)]
                _record_changes(session, [(k, is_public) for k in changed], now)
        except IntegrityError:
            raise Conflict(f"{key.uri} already exists: another writer published it first") from None
        except OperationalError as error:
            raise Busy(f"the database did not take the write: {error.orig}") from None
        return Written.UPDATED if existing is not None else Written.CREATED

    def delete(self, key: SchemaKey) -> bool:
        with Session(self._writer) as session, session.begin():
            stored = session.scalar(_family(key).where(*_version_is(key.version)))
            if stored is None:
                return False
            session.delete(stored)
            session.flush()
            _record_changes(session, [(key, stored.is_public)], datetime.now(UTC))
        return True

    def changes(self, after: int | None, limit: int = 1000) -> Changes:
        """The schemas changed since cursor `after` (None: only the current cursor), at most
        `limit` of them."""
        with Session(self.engine) as session:
            latest = int(session.scalar(select(func.max(SchemaChangeRow.id))) or 0)
            if after is None:
                return Changes(latest, [])
            if after > latest:
                # A cursor from another database (this one was replaced): start again.
                return Changes(latest, None)
            rows = session.scalars(
                select(SchemaChangeRow)
                .where(SchemaChangeRow.id > after)
                .order_by(SchemaChangeRow.id)
                .limit(limit + 1)
            ).all()
        if len(rows) > limit:
            return Changes(latest, None)
        keys = [
            (SchemaKey.of(row.vendor, row.name, row.format, row.version), row.is_public)
            for row in rows
        ]
        return Changes(rows[-1].id if rows else after, keys)

    def latest_change(self) -> int | None:
        """The id of the latest change, None if the database does not answer."""
        try:
            with Session(self.engine) as session:
                return int(session.scalar(select(func.max(SchemaChangeRow.id))) or 0)
        except OperationalError:
            return None

    def create_keys(self, vendor_prefix: str) -> dict[Permission, str]:
        """A new read key and a new write key for `vendor_prefix`."""
        now = datetime.now(UTC)
        keys = {permission: str(uuid.uuid4()) for permission in Permission}
        with Session(self._writer) as session, session.begin():
            session.add_all(
                ApiKeyRow(key=key, vendor_prefix=vendor_prefix, permission=p, created_at=now)
                for p, key in keys.items()
            )
        return keys

    def delete_key(self, key: str) -> bool:
        with Session(self._writer) as session, session.begin():
            deleted = session.execute(delete(ApiKeyRow).where(ApiKeyRow.key == key))
        return bool(getattr(deleted, "rowcount", 0))

    def find_key(self, key: str) -> Access | None:
        """The rights of a generated key, None if there is no such key."""
        with Session(self.engine) as session:
            row = session.get(ApiKeyRow, key)
        if row is None:
            return None
        return Access(row.vendor_prefix, Permission(row.permission))


def _record_changes(
    session: Session, keys: Sequence[tuple[SchemaKey, bool]], now: datetime
) -> None:
    """Add the change rows last in the writing transaction. On PostgreSQL the table is locked
    first, till the commit: ids are then taken in commit order, and a reader that has seen id
    N has seen every change before it, so its cursor skips none."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE iglu_schema_changes IN EXCLUSIVE MODE"))
    session.add_all(
        SchemaChangeRow(
            vendor=key.vendor,
            name=key.name,
            format=key.format,
            version=str(key.version),
            is_public=is_public,
            changed_at=now,
        )
        for key, is_public in keys
    )


def _family(key: SchemaKey) -> Any:
    return select(SchemaRow).where(*_family_is(key))


def _family_is(key: SchemaKey) -> tuple[Any, ...]:
    return (
        SchemaRow.vendor == key.vendor,
        SchemaRow.name == key.name,
        SchemaRow.format == key.format,
    )


def _version_is(version: SchemaVer) -> tuple[Any, ...]:
    return (
        SchemaRow.model == version.model,
        SchemaRow.revision == version.revision,
        SchemaRow.addition == version.addition,
    )


def _version(row: SchemaRow) -> SchemaVer:
    return SchemaVer(row.model, row.revision, row.addition)


def _new_row(key: SchemaKey, body: dict[str, Any], now: datetime) -> SchemaRow:
    return SchemaRow(
        vendor=key.vendor,
        name=key.name,
        format=key.format,
        model=key.version.model,
        revision=key.version.revision,
        addition=key.version.addition,
        is_public=True,
        body=orjson.dumps(body).decode(),
        supersedes="[]",
        created_at=now,
        updated_at=now,
    )


def _check_order(key: SchemaKey, family: Collection[SchemaVer]) -> None:
    if problem := order_problem(family, key.version):
        raise Conflict(f"{key.uri} is out of order: {problem} (SchemaVer allows no gaps)")


def _check_visibility(key: SchemaKey, family: dict[SchemaVer, SchemaRow], is_public: bool) -> None:
    others = {row.is_public for version, row in family.items() if version != key.version}
    if others and others != {is_public}:
        wanted = "public" if is_public else "private"
        raise Conflict(
            f"{key.uri} cannot be {wanted}: the other versions of "
            f"{key.vendor}/{key.name}/{key.format} are not (isPublic must be the same for all)"
        )


def _with_superseded_by(rows: Sequence[SchemaRow]) -> list[StoredSchema]:
    # The highest version that lists a schema in `$supersedes` is the one to use instead.
    superseded_by: dict[tuple[str, str, str, SchemaVer], SchemaVer] = {}
    for row in rows:
        for text_version in orjson.loads(row.supersedes):
            slot = (row.vendor, row.name, row.format, SchemaVer.parse(text_version))
            superseded_by[slot] = max(superseded_by.get(slot, _version(row)), _version(row))
    return [
        StoredSchema(
            key=SchemaKey(row.vendor, row.name, row.format, _version(row)),
            body=orjson.loads(row.body),
            is_public=row.is_public,
            created_at=row.created_at,
            updated_at=row.updated_at,
            superseded_by=superseded_by.get((row.vendor, row.name, row.format, _version(row))),
        )
        for row in rows
    ]
