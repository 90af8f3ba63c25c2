"""The enriched event: Snowplow's 131 atomic fields in canonical order, written as one TSV line.

An event is a dict from field name to its TSV text; a missing field is an empty column.
Timestamps are `YYYY-MM-DD HH:MM:SS.mmm` UTC, booleans `1`/`0`, and the JSON columns
(`contexts`, `unstruct_event`, `derived_contexts`) self-describing JSON.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime

FIELDS: tuple[str, ...] = (
    "app_id",
    "platform",
    "etl_tstamp",
    "collector_tstamp",
    "dvce_created_tstamp",
    "event",
    "event_id",
    "txn_id",
    "name_tracker",
    "v_tracker",
    "v_collector",
    "v_etl",
    "user_id",
    "user_ipaddress",
    "user_fingerprint",
    "domain_userid",
    "domain_sessionidx",
    "network_userid",
    "geo_country",
    "geo_region",
    "geo_city",
    "geo_zipcode",
    "geo_latitude",
    "geo_longitude",
    "geo_region_name",
    "ip_isp",
    "ip_organization",
    "ip_domain",
    "ip_netspeed",
    "page_url",
    "page_title",
    "page_referrer",
    "page_urlscheme",
    "page_urlhost",
    "page_urlport",
    "page_urlpath",
    "page_urlquery",
    "page_urlfragment",
    "refr_urlscheme",
    "refr_urlhost",
    "refr_urlport",
    "refr_urlpath",
    "refr_urlquery",
    "refr_urlfragment",
    "refr_medium",
    "refr_source",
    "refr_term",
    "mkt_medium",
    "mkt_source",
    "mkt_term",
    "mkt_content",
    "mkt_campaign",
    "contexts",
    "se_category",
    "se_action",
    "se_label",
    "se_property",
    "se_value",
    "unstruct_event",
    "tr_orderid",
    "tr_affiliation",
    "tr_total",
    "tr_tax",
    "tr_shipping",
    "tr_city",
    "tr_state",
    "tr_country",
    "ti_orderid",
    "ti_sku",
    "ti_name",
    "ti_category",
    "ti_price",
    "ti_quantity",
    "pp_xoffset_min",
    "pp_xoffset_max",
    "pp_yoffset_min",
    "pp_yoffset_max",
    "useragent",
    "br_name",
    "br_family",
    "br_version",
    "br_type",
    "br_renderengine",
    "br_lang",
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
    "br_colordepth",
    "br_viewwidth",
    "br_viewheight",
    "os_name",
    "os_family",
    "os_manufacturer",
    "os_timezone",
    "dvce_type",
    "dvce_ismobile",
    "dvce_screenwidth",
    "dvce_screenheight",
    "doc_charset",
    "doc_width",
    "doc_height",
    "tr_currency",
    "tr_total_base",
    "tr_tax_base",
    "tr_shipping_base",
    "ti_currency",
    "ti_price_base",
    "base_currency",
    "geo_timezone",
    "mkt_clickid",
    "mkt_network",
    "etl_tags",
    "dvce_sent_tstamp",
    "refr_domain_userid",
    "refr_device_tstamp",
    "derived_contexts",
    "domain_sessionid",
    "derived_tstamp",
    "event_vendor",
    "event_name",
    "event_format",
    "event_version",
    "event_fingerprint",
    "true_tstamp",
)
FIELD_INDEX = {name: index for index, name in enumerate(FIELDS)}

EnrichedEvent = dict[str, str]

_EMPTY = ("",) * len(FIELDS)
# Tabs and line breaks would split the column or the line; Snowplow writes them as spaces too.
_SEPARATORS = str.maketrans({"\t": " ", "\n": " ", "\r": " "})


class EnrichedEventError(ValueError):
    """A line that is not an enriched event."""


def to_tsv(event: EnrichedEvent) -> str:
    """The event as one TSV line (no trailing newline). Unknown keys are an error."""
    if unknown := event.keys() - FIELD_INDEX.keys():
        raise EnrichedEventError(f"not enriched event fields: {sorted(unknown)}")
    line = "\t".join(map(event.get, FIELDS, _EMPTY))
    # Values rarely hold a separator: check the joined line once, clean values only if needed.
    if line.count("\t") != len(FIELDS) - 1 or "\n" in line or "\r" in line:
        line = "\t".join([event.get(name, "").translate(_SEPARATORS) for name in FIELDS])
    return line


def from_tsv(line: str) -> EnrichedEvent:
    """The non-empty fields of a TSV line; EnrichedEventError unless it has exactly 131 columns."""
    columns = line.rstrip("\r\n").split("\t")
    if len(columns) != len(FIELDS):
        raise EnrichedEventError(f"{len(columns)} columns, expected {len(FIELDS)}")
    return {name: value for name, value in zip(FIELDS, columns, strict=True) if value}


@functools.lru_cache(maxsize=4096)
def timestamp(epoch_ms: int) -> str:
    """An epoch time in milliseconds as Snowplow writes timestamps: `2026-11-23 10:00:00.123`."""
    seconds, milliseconds = divmod(epoch_ms, 1000)
    return f"{_second(seconds)}.{milliseconds:03d}"


@functools.lru_cache(maxsize=4096)
def _second(epoch_s: int) -> str:
    # Events of one batch share a handful of seconds; formatting a date is slow.
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%d %H:%M:%S")
