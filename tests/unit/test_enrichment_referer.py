from pathlib import Path

import pytest

from services.enrich.enrichments.referer_parser import RefererParser, from_config, read_database
from tests.unit.enrichment_inputs import raw_event

PAGE = "https://shop.example.com/products/1"


@pytest.fixture(scope="module")
def parser() -> RefererParser:
    return RefererParser(read_database(None), ("example.com", "partner.org"))


@pytest.mark.parametrize(
    ("referrer", "expected"),
    [
        (
            "https://www.google.com/search?q=red+shoes&hl=en",
            {"refr_medium": "search", "refr_source": "Google", "refr_term": "red shoes"},
        ),
        ("https://www.google.co.uk/", {"refr_medium": "search", "refr_source": "Google"}),
        (
            "https://www.bing.com/search?form=QBLH&q=%C3%A9t%C3%A9",
            {"refr_medium": "search", "refr_source": "Bing", "refr_term": "été"},
        ),
        (
            "https://duckduckgo.com/?q=furrow",
            {"refr_medium": "search", "refr_source": "DuckDuckGo", "refr_term": "furrow"},
        ),
        (
            "https://yandex.ru/search/?text=snow&lr=1",
            {"refr_medium": "search", "refr_source": "Yandex", "refr_term": "snow"},
        ),
        (
            "https://l.facebook.com/l.php?u=https%3A%2F%2Fshop.example.com",
            {"refr_medium": "social", "refr_source": "Facebook"},
        ),
        ("https://t.co/abc", {"refr_medium": "social", "refr_source": "Twitter"}),
        ("android-app://com.google.android.gm/", {}),
        ("https://mail.google.com/mail/u/0/", {"refr_medium": "email", "refr_source": "Gmail"}),
        ("https://www.icloud.com/mail/", {"refr_medium": "email", "refr_source": "iCloud Mail"}),
        ("https://www.icloud.com/photos/", {"refr_medium": "unknown"}),
        ("https://shop.example.com/cart", {"refr_medium": "internal"}),
        ("https://blog.example.com/post", {"refr_medium": "internal"}),
        ("http://partner.org:8080/x", {"refr_medium": "internal"}),
        ("https://notpartner.org/", {"refr_medium": "unknown"}),
        ("https://blog.example.org/post/12", {"refr_medium": "unknown"}),
        ("http://localhost:3000/", {"refr_medium": "unknown"}),
        ("not a url", {}),
        ("mailto:someone@example.com", {}),
        ("", {}),
    ],
)
def test_medium_source_and_term(
    parser: RefererParser, referrer: str, expected: dict[str, str]
) -> None:
    event = {"page_url": PAGE, "page_referrer": referrer}
    assert parser.apply(event, raw_event()) == []
    assert event == {"page_url": PAGE, "page_referrer": referrer, **expected}


def test_same_host_is_internal_without_configuration() -> None:
    parser = RefererParser(read_database(None), ())
    assert parser.classify("https://www.acme.test/a", "https://www.acme.test/b") == (
        "internal",
        "",
        "",
    )
    assert parser.classify("https://acme.test/a", "https://www.acme.test/b") == ("unknown", "", "")


def test_a_snowplow_format_database_and_inline_referrers(tmp_path: Path) -> None:
    (tmp_path / "referers-latest.json").write_text(
        '{"search": {"Acme Search": {"domains": ["search.acme.test"], "parameters": ["k"]}},'
        ' "paid": {"Acme Ads": {"domains": ["ads.acme.test"], "extra": 1}}}'
    )
    parser = from_config(
        {
            "internalDomains": [],
            "database": "referers-latest.json",
            "uri": tmp_path.as_uri(),
            "referrers": {"social": {"Acme Social": {"domains": ["social.acme.test"]}}},
        },
        {},
        tmp_path,
    )
    assert parser.classify("https://search.acme.test/?k=x", PAGE) == ("search", "Acme Search", "x")
    assert parser.classify("https://ads.acme.test/", PAGE) == ("paid", "Acme Ads", "")
    assert parser.classify("https://social.acme.test/", PAGE) == ("social", "Acme Social", "")
    assert parser.classify("https://www.google.com/", PAGE) == ("unknown", "", "")


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        (
            {
                "database": "referers-latest.json",
                "uri": "https://assets.example.com/referer-parser/",
            },
            "downloads nothing",
        ),
        ({"database": "missing.json"}, "does not exist"),
        ({"uri": "/tmp"}, "uri without database"),
        ({"database": "../x.json"}, "file name"),
        ({"internalDomain": ["x"]}, "internalDomain"),
    ],
)
def test_bad_parameters(tmp_path: Path, parameters: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        from_config(parameters, {}, tmp_path)
