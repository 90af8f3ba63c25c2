"""What an API key allows: pure rules, no storage.

A key is generated for a vendor prefix with the `read` or the `write` permission. A prefix
covers its own vendor and every dotted sub-vendor (`com.acme` covers `com.acme` and
`com.acme.marketing`, not `com.acmeco`); `*` covers every vendor. A write key can also read.
The super key from configuration can do everything, including making and deleting keys.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from enum import StrEnum

from libs.formats.iglu import IgluError

ALL_VENDORS = "*"
# Dot-separated vendor parts, each as in an Iglu vendor; a trailing or doubled dot is a mistake.
_PREFIX_PATTERN = re.compile(r"[a-zA-Z0-9\-_]+(\.[a-zA-Z0-9\-_]+)*")
_MAX_PREFIX_LENGTH = 255


class Permission(StrEnum):
    READ = "read"
    WRITE = "write"


class MalformedKey(ValueError):
    """An `apikey` that is neither the super key nor a UUID."""


@dataclass(frozen=True)
class Access:
    """The rights of one request's caller."""

    vendor_prefix: str | None = None
    permission: Permission | None = None
    is_super: bool = False

    @property
    def identity(self) -> str:
        """Equal for callers with equal rights; part of the read cache's key."""
        if self.is_super:
            return "super"
        if self.vendor_prefix is None:
            return "anonymous"
        return f"{self.permission}:{self.vendor_prefix}"

    def can_read(self, vendor: str, is_public: bool) -> bool:
        return is_public or self.is_super or self._covers(vendor)

    def can_write(self, vendor: str) -> bool:
        return self.is_super or (self.permission is Permission.WRITE and self._covers(vendor))

    def _covers(self, vendor: str) -> bool:
        return self.vendor_prefix is not None and prefix_covers(self.vendor_prefix, vendor)


ANONYMOUS = Access()
SUPER = Access(ALL_VENDORS, Permission.WRITE, is_super=True)


def prefix_covers(prefix: str, vendor: str) -> bool:
    """True when a key for `prefix` applies to schemas of `vendor`."""
    return prefix == ALL_VENDORS or vendor == prefix or vendor.startswith(prefix + ".")


def check_prefix(prefix: object) -> str:
    """`prefix` if it is a usable vendor prefix, else IgluError saying why."""
    if not isinstance(prefix, str):
        raise IgluError("vendorPrefix must be a string such as com.acme, or *")
    if prefix == ALL_VENDORS:
        return prefix
    if len(prefix) > _MAX_PREFIX_LENGTH or not _PREFIX_PATTERN.fullmatch(prefix):
        raise IgluError(
            f"invalid vendorPrefix {prefix!r}: expected dot-separated parts of letters, digits, "
            "'-' and '_' (such as com.acme), or *"
        )
    return prefix


def parse_key(text: str) -> str:
    """The canonical spelling of a generated key, or MalformedKey."""
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise MalformedKey(f"malformed API key {text[:64]!r}: expected a UUID") from None
