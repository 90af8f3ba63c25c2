"""`campaign_attribution`: `mkt_*` fields from the query string of `page_url`.

Each of `mkt_medium`, `mkt_source`, `mkt_term`, `mkt_content` and `mkt_campaign` takes the value
of the first parameter of its list (`fields.mktMedium`, ...) that the query has, URL-decoded; the
lists default to the `utm_*` parameter of the same name. A parameter repeated in the query counts
with its first value. `mkt_clickid` and `mkt_network` come from the first click-id parameter in
the query: `fields.mktClickId` maps parameter names to networks and is added to the defaults
(`gclid`, `gbraid`, `wbraid` → Google, `dclid` → DoubleClick, `msclkid` → Microsoft, `fbclid` →
Facebook, `ttclid` → TikTok, `twclid` → Twitter, `li_fat_id` → LinkedIn, `yclid` → Yandex); a
mapping to the empty string removes a default.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from libs.formats.enriched import EnrichedEvent
from services.enrich.enrichments.config import Parameters
from services.enrich.enrichments.urls import query_of, query_parameters
from services.enrich.model import RawEvent, SelfDescribingJson

NAME = "campaign_attribution"

DEFAULT_CLICK_IDS: Mapping[str, str] = {
    "gclid": "Google",
    "gbraid": "Google",
    "wbraid": "Google",
    "dclid": "DoubleClick",
    "msclkid": "Microsoft",
    "fbclid": "Facebook",
    "ttclid": "TikTok",
    "twclid": "Twitter",
    "li_fat_id": "LinkedIn",
    "yclid": "Yandex",
}


class CampaignFields(Parameters):
    mkt_medium: tuple[str, ...] = ("utm_medium",)
    mkt_source: tuple[str, ...] = ("utm_source",)
    mkt_term: tuple[str, ...] = ("utm_term",)
    mkt_content: tuple[str, ...] = ("utm_content",)
    mkt_campaign: tuple[str, ...] = ("utm_campaign",)
    mkt_click_id: dict[str, str] = {}


class CampaignAttributionParameters(Parameters):
    mapping: Literal["static"] = "static"
    fields: CampaignFields = CampaignFields()


class CampaignAttribution:
    """Sets the `mkt_*` fields."""

    name = NAME
    reads_derived_contexts = False

    def __init__(self, parameters: CampaignAttributionParameters) -> None:
        fields = parameters.fields
        self._fields = (
            ("mkt_medium", fields.mkt_medium),
            ("mkt_source", fields.mkt_source),
            ("mkt_term", fields.mkt_term),
            ("mkt_content", fields.mkt_content),
            ("mkt_campaign", fields.mkt_campaign),
        )
        click_ids = {**DEFAULT_CLICK_IDS, **fields.mkt_click_id}
        self._click_ids = {name: network for name, network in click_ids.items() if network}
        # The fields depend on the page URL only, and pages repeat; callers only read the result.
        self._marketing_fields = functools.lru_cache(maxsize=8192)(self._marketing_fields_uncached)

    def apply(self, event: EnrichedEvent, raw: RawEvent) -> list[SelfDescribingJson]:
        if page_url := event.get("page_url"):
            event.update(self._marketing_fields(page_url))
        return []

    def _marketing_fields_uncached(self, page_url: str) -> dict[str, str]:
        query = query_parameters(query_of(page_url))
        fields: dict[str, str] = {}
        for field, names in self._fields:
            for name in names:
                if found := query.get(name):
                    fields[field] = found
                    break
        for name, value in query.items():
            if value and (network := self._click_ids.get(name)):
                fields["mkt_clickid"] = value
                fields["mkt_network"] = network
                break
        return fields


def from_config(
    parameters: Mapping[str, Any], extras: Mapping[str, Any], directory: Path
) -> CampaignAttribution:
    return CampaignAttribution(CampaignAttributionParameters.model_validate(parameters))
