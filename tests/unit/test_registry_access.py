"""Who may read and write what (iglu_registry/access.py)."""

import pytest

from iglu_registry.access import (
    ANONYMOUS,
    SUPER,
    Access,
    MalformedKey,
    Permission,
    check_prefix,
    parse_key,
    prefix_covers,
)
from libs.formats.iglu import IgluError


@pytest.mark.parametrize(
    ("prefix", "vendor", "covered"),
    [
        ("com.acme", "com.acme", True),
        ("com.acme", "com.acme.marketing", True),
        ("com.acme", "com.acme.marketing.eu", True),
        ("com.acme", "com.acmeco", False),
        ("com.acme", "com", False),
        ("com.acme", "org.acme", False),
        ("com", "com.acme", True),
        ("*", "anything.at.all", True),
        ("com.acme.marketing", "com.acme", False),
    ],
)
def test_a_prefix_covers_its_vendor_and_dotted_sub_vendors(
    prefix: str, vendor: str, covered: bool
) -> None:
    assert prefix_covers(prefix, vendor) is covered


READ = Access("com.acme", Permission.READ)
WRITE = Access("com.acme", Permission.WRITE)


@pytest.mark.parametrize(
    ("access", "vendor", "public", "can_read", "can_write"),
    [
        (ANONYMOUS, "com.acme", True, True, False),
        (ANONYMOUS, "com.acme", False, False, False),
        (READ, "com.acme", False, True, False),
        (READ, "com.acme.sub", False, True, False),
        (READ, "com.other", False, False, False),
        (READ, "com.other", True, True, False),
        (WRITE, "com.acme", False, True, True),
        (WRITE, "com.acme.sub", False, True, True),
        (WRITE, "com.other", False, False, False),
        (Access("*", Permission.WRITE), "org.any", False, True, True),
        (SUPER, "org.any", False, True, True),
    ],
)
def test_rights(access: Access, vendor: str, public: bool, can_read: bool, can_write: bool) -> None:
    assert access.can_read(vendor, public) is can_read
    assert access.can_write(vendor) is can_write


def test_identities_separate_callers_with_different_rights() -> None:
    identities = {a.identity for a in (ANONYMOUS, READ, WRITE, SUPER, Access("*", Permission.READ))}
    assert len(identities) == 5


@pytest.mark.parametrize("prefix", ["com.acme", "*", "com", "com.acme-co.team_1"])
def test_valid_prefixes(prefix: str) -> None:
    assert check_prefix(prefix) == prefix


@pytest.mark.parametrize("prefix", ["", "com..acme", ".com", "com.", "com acme", "com.*", 3, None])
def test_invalid_prefixes(prefix: object) -> None:
    with pytest.raises(IgluError):
        check_prefix(prefix)


def test_keys_are_uuids_in_one_spelling() -> None:
    assert parse_key("6F1C1C9E-0000-4000-8000-000000000000") == (
        "6f1c1c9e-0000-4000-8000-000000000000"
    )
    with pytest.raises(MalformedKey, match="expected a UUID"):
        parse_key("secret")
