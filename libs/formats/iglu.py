"""Iglu schema keys (`iglu:vendor/name/format/M-R-A`) and SchemaVer, with its publishing order.

SchemaVer is MODEL-REVISION-ADDITION. Versions of one schema are published without gaps: a new
ADDITION follows the one before it, a new REVISION follows some version of the revision before
it, a new MODEL follows some version of the model before it, and everything starts at 1-0-0.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Self

# The meta-schema every self-describing JSON Schema names in `$schema`.
SELF_DESCRIBING_SCHEMA = (
    "http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#"
)
IGLU_PREFIX = "iglu:"

VENDOR_PATTERN = re.compile(r"[a-zA-Z0-9\-_.]+")
NAME_PATTERN = re.compile(r"[a-zA-Z0-9\-_]+")
FORMAT_PATTERN = NAME_PATTERN
# No leading zeros, so that every version has exactly one spelling; models start at 1.
_SCHEMAVER_PATTERN = re.compile(r"([1-9][0-9]*)-(0|[1-9][0-9]*)-(0|[1-9][0-9]*)")
# Longer parts do not fit the registry's columns; no real vendor or name comes close.
MAX_PART_LENGTH = 255
# Each part is stored as a database integer; nobody needs a schema version past this.
_MAX_PART = 2**31 - 1


class IgluError(ValueError):
    """A schema key, URI or SchemaVer that does not follow the Iglu rules; the message says how."""


@dataclass(frozen=True, order=True)
class SchemaVer:
    """MODEL-REVISION-ADDITION; ordered numerically, part by part."""

    model: int
    revision: int
    addition: int

    @classmethod
    def parse(cls, text: str) -> Self:
        match = _SCHEMAVER_PATTERN.fullmatch(text)
        if match is None:
            raise IgluError(
                f"invalid SchemaVer {text!r}: expected MODEL-REVISION-ADDITION such as 1-0-0 "
                "(model from 1, no leading zeros)"
            )
        parts = [int(part) for part in match.groups()]
        if max(parts) > _MAX_PART:
            raise IgluError(f"invalid SchemaVer {text!r}: a part is larger than {_MAX_PART}")
        return cls(*parts)

    def __str__(self) -> str:
        return f"{self.model}-{self.revision}-{self.addition}"


FIRST_VERSION = SchemaVer(1, 0, 0)


@dataclass(frozen=True, order=True)
class SchemaKey:
    """What identifies one schema: vendor, name, format and version."""

    vendor: str
    name: str
    format: str
    version: SchemaVer

    @classmethod
    def of(cls, vendor: str, name: str, format: str, version: str) -> Self:
        """The key from its four parts as they appear in a URL or a `self` object."""
        check_part("vendor", vendor, VENDOR_PATTERN)
        check_part("name", name, NAME_PATTERN)
        check_part("format", format, FORMAT_PATTERN)
        return cls(vendor, name, format, SchemaVer.parse(version))

    @classmethod
    def parse_uri(cls, uri: str) -> Self:
        """`iglu:vendor/name/format/M-R-A` as a key."""
        if not uri.startswith(IGLU_PREFIX):
            raise IgluError(f"invalid Iglu URI {uri!r}: must start with {IGLU_PREFIX!r}")
        parts = uri.removeprefix(IGLU_PREFIX).split("/")
        if len(parts) != 4:
            raise IgluError(f"invalid Iglu URI {uri!r}: expected iglu:vendor/name/format/M-R-A")
        return cls.of(*parts)

    @classmethod
    def from_self(cls, self_object: object) -> Self:
        """The key a self-describing schema's `self` object declares."""
        if not isinstance(self_object, Mapping):
            raise IgluError("`self` must be an object with vendor, name, format and version")
        parts: list[str] = []
        for field in ("vendor", "name", "format", "version"):
            value = self_object.get(field)
            if not isinstance(value, str):
                raise IgluError(f"`self.{field}` must be a string")
            parts.append(value)
        if extra := sorted(set(self_object) - {"vendor", "name", "format", "version"}):
            raise IgluError(f"`self` has unexpected fields: {', '.join(extra)}")
        return cls.of(*parts)

    @property
    def family(self) -> tuple[str, str, str]:
        """vendor, name and format: what every version of one schema shares."""
        return self.vendor, self.name, self.format

    @property
    def uri(self) -> str:
        return f"{IGLU_PREFIX}{self.path}"

    @property
    def path(self) -> str:
        """`vendor/name/format/M-R-A`, as in the registry's URLs and in schema directories."""
        return f"{self.vendor}/{self.name}/{self.format}/{self.version}"

    def self_object(self) -> dict[str, str]:
        return {
            "vendor": self.vendor,
            "name": self.name,
            "format": self.format,
            "version": str(self.version),
        }

    def with_version(self, version: SchemaVer) -> SchemaKey:
        return SchemaKey(self.vendor, self.name, self.format, version)


def check_part(field: str, value: str, pattern: re.Pattern[str]) -> None:
    """Raise IgluError unless `value` is a valid `field` (vendor, name or format)."""
    if len(value) > MAX_PART_LENGTH:
        raise IgluError(f"invalid {field}: longer than {MAX_PART_LENGTH} characters")
    if not pattern.fullmatch(value):
        allowed = "letters, digits, '-', '_'" + (" and '.'" if "." in pattern.pattern else "")
        raise IgluError(f"invalid {field} {value!r}: only {allowed} are allowed")


def missing_before(
    existing: Collection[SchemaVer], candidate: SchemaVer, limit: int = 5
) -> list[SchemaVer]:
    """The oldest `limit` versions that must be published before `candidate`, oldest first.

    Empty when `candidate` may be published now (or already exists). When a whole revision or
    model is absent, its first version (M-R-0 or M-0-0) is the one named as missing. Computed
    level by level, never version by version: a candidate such as 1-0-999999999 costs no more
    than 1-0-1.
    """
    present = set(existing)
    if candidate in present:
        return []
    model, revision, addition = candidate.model, candidate.revision, candidate.addition
    # Each level's run of missing versions, from the candidate's level down to the models.
    runs: list[Iterator[SchemaVer]] = []
    if addition > 0:
        lower = [v.addition for v in present if (v.model, v.revision) == (model, revision)]
        start = max((a + 1 for a in lower if a < addition), default=0)
        runs.append(SchemaVer(model, revision, a) for a in range(start, addition))
        if start > 0:
            return _oldest(runs, limit)
    if revision > 0:
        lower = [v.revision for v in present if v.model == model and v.revision < revision]
        start = max(lower) + 1 if lower else 0
        runs.append(SchemaVer(model, r, 0) for r in range(start, revision))
        if lower:
            return _oldest(runs, limit)
    if model > 1:
        lower = [v.model for v in present if v.model < model]
        start = max(lower) + 1 if lower else 1
        runs.append(SchemaVer(m, 0, 0) for m in range(start, model))
    return _oldest(runs, limit)


def order_problem(existing: Collection[SchemaVer], candidate: SchemaVer) -> str | None:
    """What must be published before `candidate`, in words; None when it may be published."""
    shown = 5
    missing = missing_before(existing, candidate, limit=shown + 1)
    if not missing:
        return None
    names = ", ".join(str(version) for version in missing[:shown])
    more = " and the versions between them and it" if len(missing) > shown else ""
    return f"{names}{more} must be published first"


def _oldest(runs: list[Iterator[SchemaVer]], limit: int) -> list[SchemaVer]:
    return list(itertools.islice(itertools.chain.from_iterable(reversed(runs)), limit))


@functools.lru_cache(maxsize=4096)
def schema_key(uri: str) -> SchemaKey:
    """`SchemaKey.parse_uri`, remembered: the same few URIs arrive on every event."""
    return SchemaKey.parse_uri(uri)
