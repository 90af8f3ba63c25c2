"""Each enrichment's `parameters` model: what its configuration file may hold, checked once when
the file is loaded, in the order the enrichments run.

The models live apart from the enrichments' per-event code, which mypyc may compile (the modules
`[tool.furrow] native-modules` lists), and pydantic cannot read the `Literal` fields, validators
and `Field` defaults of a compiled module; this module stays plain Python.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

from libs.formats.enriched import FIELD_NAMES
from services.enrich.enrichments.config import Parameters, SchemaCriterion
from services.enrich.enrichments.json_path import parse_json_path

# ip_lookups


class DatabaseFile(Parameters):
    database: str
    uri: str | None = None


class IpLookupsParameters(Parameters):
    geo: DatabaseFile | None = None
    isp: DatabaseFile | None = None
    domain: DatabaseFile | None = None
    connection_type: DatabaseFile | None = None


# anon_ip


class AnonIpParameters(Parameters):
    anon_octets: int = Field(ge=1, le=4)
    anon_segments: int | None = Field(default=None, ge=1, le=8)


# ua_parser_config


class UaParserParameters(Parameters):
    """No parameters: the built-in regexes are always used."""


# referer_parser


class RefererSource(BaseModel):
    """One source of a referers database; unknown keys are ignored so newer files still load."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    domains: tuple[str, ...] = Field(min_length=1)
    parameters: tuple[str, ...] = ()


RefererDatabase = dict[str, dict[str, RefererSource]]
REFERER_DATABASE = TypeAdapter(RefererDatabase)


class RefererParserParameters(Parameters):
    internal_domains: tuple[str, ...] = ()
    database: str | None = None
    uri: str | None = None
    referrers: RefererDatabase = {}


# campaign_attribution


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


# cookie_extractor_config


class CookieExtractorParameters(Parameters):
    cookies: tuple[str, ...]


# http_header_extractor_config


class HttpHeaderExtractorParameters(Parameters):
    headers_pattern: str

    @field_validator("headers_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as error:
            raise ValueError(f"headersPattern is not a regular expression: {error}") from error
        return value


# event_fingerprint_config

HashAlgorithm = Literal["MD5", "SHA1", "SHA256", "SHA384", "SHA512"]


class EventFingerprintParameters(Parameters):
    hash_algorithm: HashAlgorithm = "MD5"
    exclude_parameters: tuple[str, ...] = ("cv", "eid", "nuid", "stm")


# pii_enrichment_config

Strategy = Literal["NONE", "FULL", "HASH", "MASK", "HASH-MASK"]
HashFunction = Literal["MD5", "SHA-1", "SHA-256", "SHA-384", "SHA-512"]
JsonColumn = Literal["contexts", "derived_contexts", "unstruct_event"]

# Fields the event cannot do without or that say what the event is, never masked.
_PROTECTED = frozenset(
    {
        "event_id",
        "event",
        "platform",
        "name_tracker",
        "v_tracker",
        "v_collector",
        "v_etl",
        "event_vendor",
        "event_name",
        "event_format",
        "event_version",
        "event_fingerprint",
        "etl_tags",
    }
)
_JSON_COLUMNS = frozenset({"contexts", "derived_contexts", "unstruct_event"})
# Numbers and booleans in the enriched event (as snowplow-analytics-sdk reads them): a hash or
# a mask would make the event unreadable, so only NONE and FULL apply.
_NOT_TEXT = frozenset(
    {
        "txn_id",
        "domain_sessionidx",
        "geo_latitude",
        "geo_longitude",
        "page_urlport",
        "refr_urlport",
        "tr_total",
        "tr_tax",
        "tr_shipping",
        "ti_price",
        "ti_quantity",
        "pp_xoffset_min",
        "pp_xoffset_max",
        "pp_yoffset_min",
        "pp_yoffset_max",
        "br_features_pdf",
        "br_features_flash",
        "br_features_java",
        "br_features_director",
        "br_features_quicktime",
        "br_features_realplayer",
        "br_features_windowsmedia",
        "br_features_gears",
        "br_features_silverlight",
        "br_cookies",
        "br_viewwidth",
        "br_viewheight",
        "dvce_ismobile",
        "dvce_screenwidth",
        "dvce_screenheight",
        "doc_width",
        "doc_height",
        "tr_total_base",
        "tr_tax_base",
        "tr_shipping_base",
        "ti_price_base",
    }
)
POJO_FIELDS = frozenset(
    name
    for name in FIELD_NAMES
    if name not in _PROTECTED and name not in _JSON_COLUMNS and not name.endswith("_tstamp")
)


class PojoField(Parameters):
    field: str
    strategy: Strategy | None = None

    @field_validator("field")
    @classmethod
    def _maskable(cls, value: str) -> str:
        if value not in POJO_FIELDS:
            raise ValueError(f"{value!r} is not an enriched event field that can be masked")
        return value


class JsonField(Parameters):
    field: JsonColumn
    schema_criterion: str
    json_path: str
    strategy: Strategy | None = None

    @field_validator("schema_criterion")
    @classmethod
    def _is_criterion(cls, value: str) -> str:
        SchemaCriterion.parse(value)
        return value

    @field_validator("json_path")
    @classmethod
    def _is_path(cls, value: str) -> str:
        parse_json_path(value)
        return value


class PiiField(Parameters):
    pojo: PojoField | None = None
    json_field: JsonField | None = Field(default=None, alias="json")

    @model_validator(mode="after")
    def _exactly_one(self) -> PiiField:
        if (self.pojo is None) == (self.json_field is None):
            raise ValueError("each pii entry has exactly one of pojo and json")
        return self


class Pseudonymize(Parameters):
    hash_function: HashFunction = "SHA-256"
    salt: str


class Mask(Parameters):
    keep_leading: int = Field(default=1, ge=0)
    keep_trailing: int = Field(default=1, ge=0)
    character: str = Field(default="*", min_length=1, max_length=1)


class PiiStrategy(Parameters):
    pseudonymize: Pseudonymize | None = None
    mask: Mask = Mask()
    default: Strategy = "HASH"


class PiiParameters(Parameters):
    pii: tuple[PiiField, ...]
    strategy: PiiStrategy

    @model_validator(mode="after")
    def _consistent(self) -> PiiParameters:
        for entry in self.pii:
            column = entry.pojo or entry.json_field
            assert column is not None
            strategy = column.strategy or self.strategy.default
            if strategy in ("HASH", "HASH-MASK") and self.strategy.pseudonymize is None:
                raise ValueError(
                    f"{column.field} is hashed ({strategy}): strategy.pseudonymize "
                    "with a salt is needed"
                )
            if entry.pojo and entry.pojo.field in _NOT_TEXT and strategy not in ("NONE", "FULL"):
                raise ValueError(
                    f"{entry.pojo.field} holds a number or boolean: only NONE or FULL apply"
                )
        return self
