"""The registry's tables. Changing them needs a new migration in `migrations/versions/`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class SchemaRow(Base):
    """One version of one schema."""

    __tablename__ = "iglu_schemas"
    __table_args__ = (
        # Also what makes exactly one of two racing writers of the same version win.
        UniqueConstraint(
            "vendor", "name", "format", "model", "revision", "addition", name="uq_iglu_schemas_key"
        ),
        Index("ix_iglu_schemas_family", "vendor", "name", "format"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    format: Mapped[str] = mapped_column(String(255))
    model: Mapped[int]
    revision: Mapped[int]
    addition: Mapped[int]
    is_public: Mapped[bool]
    # The whole self-describing schema as JSON text, `$supersedes` included.
    body: Mapped[str] = mapped_column(Text)
    # The versions this one supersedes, as a JSON array of SchemaVer strings; kept beside the body
    # so `$supersededBy` is found without parsing every body of the family.
    supersedes: Mapped[str] = mapped_column(Text, default="[]")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SchemaChangeRow(Base):
    """A schema published, patched or deleted: what the change feed (`/api/meta/changes`) lists
    to resolvers, which forget their copy. Ids grow in the order changes commit."""

    __tablename__ = "iglu_schema_changes"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    vendor: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    format: Mapped[str] = mapped_column(String(255))
    version: Mapped[str] = mapped_column(String(64))
    # As the schema was at the change, so that a listing shows private keys only to readers.
    is_public: Mapped[bool]
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiKeyRow(Base):
    """A read or write key for a vendor prefix; the super key lives in configuration only."""

    __tablename__ = "iglu_api_keys"

    key: Mapped[str] = mapped_column(String(36), primary_key=True)
    vendor_prefix: Mapped[str] = mapped_column(String(255))
    permission: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
