"""Iglu URIs, schema keys and SchemaVer, with the publishing order (libs/formats/iglu.py)."""

import pytest

from libs.formats.iglu import IgluError, SchemaKey, SchemaVer, missing_before, order_problem


def v(text: str) -> SchemaVer:
    return SchemaVer.parse(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1-0-0", (1, 0, 0)), ("2-10-3", (2, 10, 3)), ("12-0-100", (12, 0, 100))],
)
def test_schemaver_parses(text: str, expected: tuple[int, int, int]) -> None:
    assert v(text) == SchemaVer(*expected)
    assert str(v(text)) == text


@pytest.mark.parametrize(
    "text",
    ["0-0-0", "01-0-0", "1-00-0", "1-0", "1-0-0-0", "a-b-c", "1.0.0", "", " 1-0-0", "-1-0-0"],
)
def test_schemaver_rejects(text: str) -> None:
    with pytest.raises(IgluError, match="invalid SchemaVer"):
        v(text)


def test_schemaver_rejects_parts_too_large_for_the_database() -> None:
    with pytest.raises(IgluError, match="larger than"):
        v("1-0-2147483648")


def test_schemaver_orders_numerically_part_by_part() -> None:
    versions = ["2-0-0", "1-10-0", "1-2-0", "1-0-10", "1-0-2", "1-0-0"]
    assert [str(x) for x in sorted(map(v, versions))] == [
        "1-0-0",
        "1-0-2",
        "1-0-10",
        "1-2-0",
        "1-10-0",
        "2-0-0",
    ]


def test_uri_round_trip() -> None:
    key = SchemaKey.parse_uri("iglu:com.acme-co_1/ad_click/jsonschema/1-0-2")
    assert key == SchemaKey("com.acme-co_1", "ad_click", "jsonschema", SchemaVer(1, 0, 2))
    assert key.uri == "iglu:com.acme-co_1/ad_click/jsonschema/1-0-2"
    assert key.path == "com.acme-co_1/ad_click/jsonschema/1-0-2"
    assert SchemaKey.from_self(key.self_object()) == key


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("com.acme/ad_click/jsonschema/1-0-0", "must start with"),
        ("iglu:com.acme/ad_click/1-0-0", "expected iglu:vendor/name/format/M-R-A"),
        ("iglu:com.acme/ad_click/jsonschema/1-0-0/extra", "expected iglu:"),
        ("iglu:com acme/ad_click/jsonschema/1-0-0", "invalid vendor"),
        ("iglu:com.acme/ad.click/jsonschema/1-0-0", "invalid name"),
        ("iglu:com.acme/ad_click/json.schema/1-0-0", "invalid format"),
        ("iglu:com.acme/ad_click/jsonschema/1-0", "invalid SchemaVer"),
        ("iglu:/ad_click/jsonschema/1-0-0", "invalid vendor"),
        ("iglu:" + "a" * 256 + "/n/jsonschema/1-0-0", "longer than 255"),
    ],
)
def test_uri_rejects(uri: str, message: str) -> None:
    with pytest.raises(IgluError, match=message):
        SchemaKey.parse_uri(uri)


@pytest.mark.parametrize(
    ("self_object", "message"),
    [
        ("iglu:com.acme/a/jsonschema/1-0-0", "must be an object"),
        ({"vendor": "com.acme", "name": "a", "format": "jsonschema"}, "self.version"),
        ({"vendor": "com.acme", "name": "a", "format": "jsonschema", "version": 1}, "self.version"),
        (
            {"vendor": "v", "name": "a", "format": "jsonschema", "version": "1-0-0", "x": 1},
            "unexpected fields: x",
        ),
    ],
)
def test_self_object_rejects(self_object: object, message: str) -> None:
    with pytest.raises(IgluError, match=message):
        SchemaKey.from_self(self_object)


@pytest.mark.parametrize(
    ("existing", "candidate", "missing"),
    [
        ([], "1-0-0", []),
        ([], "1-0-1", ["1-0-0"]),
        ([], "1-0-3", ["1-0-0", "1-0-1", "1-0-2"]),
        ([], "2-0-0", ["1-0-0"]),
        ([], "3-1-1", ["1-0-0", "2-0-0", "3-0-0", "3-1-0"]),
        (["1-0-0"], "1-0-1", []),
        (["1-0-0"], "1-1-0", []),
        (["1-0-0"], "2-0-0", []),
        (["1-0-0"], "1-0-2", ["1-0-1"]),
        (["1-0-0"], "1-2-0", ["1-1-0"]),
        (["1-0-0"], "3-0-0", ["2-0-0"]),
        (["1-0-0", "1-0-1", "1-1-0"], "1-0-2", []),
        (["1-0-0", "1-1-0"], "1-1-1", []),
        (["1-0-0", "1-1-0"], "1-2-0", []),
        (["1-0-0", "2-0-0"], "2-0-2", ["2-0-1"]),
        (["1-0-0"], "1-0-0", []),
    ],
)
def test_missing_before(existing: list[str], candidate: str, missing: list[str]) -> None:
    assert [str(x) for x in missing_before({v(e) for e in existing}, v(candidate))] == missing


def test_far_versions_cost_nothing_and_list_the_oldest_missing() -> None:
    assert [str(x) for x in missing_before({v("1-0-0")}, v("1-0-2147483647"), limit=3)] == [
        "1-0-1",
        "1-0-2",
        "1-0-3",
    ]
    assert [str(x) for x in missing_before(set(), v("999999999-0-0"), limit=2)] == [
        "1-0-0",
        "2-0-0",
    ]


@pytest.mark.parametrize(
    ("existing", "candidate", "problem"),
    [
        (["1-0-0"], "1-0-1", None),
        (["1-0-0"], "1-0-3", "1-0-1, 1-0-2 must be published first"),
        (
            ["1-0-0"],
            "1-0-9",
            "1-0-1, 1-0-2, 1-0-3, 1-0-4, 1-0-5 and the versions between them and it "
            "must be published first",
        ),
    ],
)
def test_order_problem_says_what_is_missing(
    existing: list[str], candidate: str, problem: str | None
) -> None:
    assert order_problem({v(e) for e in existing}, v(candidate)) == problem
