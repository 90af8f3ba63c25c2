from typing import Any

import pytest

from services.enrich.enrichments.campaign_attribution import (
    CampaignAttribution,
    CampaignAttributionParameters,
)
from services.enrich.enrichments.urls import query_parameters
from tests.unit.enrichment_inputs import raw_event

CUSTOM = {
    "fields": {
        "mktMedium": ["medium", "utm_medium"],
        "mktSource": ["utm_source"],
        "mktTerm": ["utm_term", "q"],
        "mktContent": [],
        "mktCampaign": ["cid"],
        "mktClickId": {"pclid": "Partner", "fbclid": ""},
    }
}


@pytest.mark.parametrize(
    ("parameters", "page_url", "expected"),
    [
        (
            {},
            "https://shop.example.com/?utm_source=news&utm_medium=email&utm_term=red+shoes"
            "&utm_content=top%20banner&utm_campaign=spring",
            {
                "mkt_source": "news",
                "mkt_medium": "email",
                "mkt_term": "red shoes",
                "mkt_content": "top banner",
                "mkt_campaign": "spring",
            },
        ),
        (
            {},
            "https://shop.example.com/?gclid=Cj0K&utm_source=g",
            {"mkt_source": "g", "mkt_clickid": "Cj0K", "mkt_network": "Google"},
        ),
        (
            {},
            "https://shop.example.com/?msclkid=m1&gclid=g1",
            {"mkt_clickid": "m1", "mkt_network": "Microsoft"},
        ),
        (
            {},
            "https://shop.example.com/?dclid=d1",
            {"mkt_clickid": "d1", "mkt_network": "DoubleClick"},
        ),
        (
            {},
            "https://shop.example.com/?fbclid=f1",
            {"mkt_clickid": "f1", "mkt_network": "Facebook"},
        ),
        # The first of a repeated parameter wins; the fragment is not the query.
        (
            {},
            "https://shop.example.com/?utm_source=a&utm_source=b#utm_medium=x",
            {"mkt_source": "a"},
        ),
        ({}, "https://shop.example.com/?utm_source=&gclid=", {}),
        ({}, "https://shop.example.com/products/1", {}),
        ({}, "https://shop.example.com/app#/route?utm_source=x", {}),
        ({}, "", {}),
        # Configured names, in list order; click ids added to (or removed from) the defaults.
        (
            CUSTOM,
            "https://shop.example.com/?utm_medium=u&medium=m&q=shoes&cid=42",
            {"mkt_medium": "m", "mkt_term": "shoes", "mkt_campaign": "42"},
        ),
        (
            CUSTOM,
            "https://shop.example.com/?utm_content=c&pclid=p1",
            {"mkt_clickid": "p1", "mkt_network": "Partner"},
        ),
        (
            CUSTOM,
            "https://shop.example.com/?fbclid=f1&gclid=g1",
            {"mkt_clickid": "g1", "mkt_network": "Google"},
        ),
    ],
)
def test_mkt_fields_from_the_page_url_query(
    parameters: dict[str, Any], page_url: str, expected: dict[str, str]
) -> None:
    enrichment = CampaignAttribution(CampaignAttributionParameters.model_validate(parameters))
    event = {"page_url": page_url}
    assert enrichment.apply(event, raw_event()) == []
    assert event == {"page_url": page_url, **expected}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("a=1&b=2", {"a": "1", "b": "2"}),
        ("a=1&a=2", {"a": "1"}),
        ("a+b=c+d&e=%C3%A9t%C3%A9", {"a b": "c d", "e": "été"}),
        ("flag&&x=", {"flag": "", "x": ""}),
        ("a=b=c", {"a": "b=c"}),
        ("", {}),
    ],
)
def test_query_parameters(query: str, expected: dict[str, str]) -> None:
    assert query_parameters(query) == expected
