"""`pii_enrichment_config`: personal data in atomic fields and in self-describing JSON masked,
per field, by one of five strategies. It runs last, so it sees every value the others set.

Snowplow's configuration (2-0-0, 2-0-1) works unchanged: every field listed in `pii` is hashed
with `strategy.pseudonymize` (`hashFunction`, `salt`). Furrow extends it: a field may name its
own `strategy`, and `strategy` may hold `mask` settings and a `default` for fields naming none:

- `NONE`: the value is dropped (the atomic field emptied, the JSON member or array item removed);
- `FULL`: the value is kept as it is;
- `HASH`: the hex digest of the value followed by the salt (UTF-8), `SHA-256` unless
  `hashFunction` says otherwise (`MD5`, `SHA-1`, `SHA-384`, `SHA-512`; MD2 is not available);
- `MASK`: `keepLeading` first and `keepTrailing` last characters kept, the others replaced by
  `character` (a value too short to hide anything is masked whole);
- `HASH-MASK`: the field gets the hash (so it still joins), and the masked value goes into a
  derived context `iglu:dev.furrow/pii_masked_value/jsonschema/1-0-0` with the field, the schema
  and JSON path for JSON values, the masked value and its hash.

Atomic (`pojo`) fields: any text field of the enriched event except the ones that identify the
event itself (`event_id`, `event`, `platform`, the tracker and event type fields, timestamps,
`event_fingerprint`, `etl_tags`); numbers and booleans (`geo_latitude`, `tr_total`,
`dvce_ismobile`, ...) only with `NONE` or `FULL`, as a hash would no longer parse. JSON fields:
`contexts`, `derived_contexts` or `unstruct_event`, only for entities whose schema matches
`schemaCriterion`, at `jsonPath`, a JSONPath subset: `$` followed by `.name`, `['name']`, `[2]`,
`[*]`, `.*` and `..name`; only string values are hashed or masked. `derived_contexts` rules see
the contexts of the enrichments listed before this one. `anonymousOnly: true` masks only
requests sent with `SP-Anonymous`; `emitEvent: true` (Snowplow's `pii_transformation` event) is
not supported.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import orjson
from pydantic import Field, field_validator, model_validator

from libs.formats.enriched import FIELD_NAMES, EnrichedEvent
from services.enrich.enrichments.config import Parameters, SchemaCriterion
from services.enrich.enrichments.json_path import Location, Step, locate, parse_json_path
from services.enrich.model import RawEvent, SelfDescribingJson

NAME = "pii_enrichment_config"
MASKED_VALUE_SCHEMA = "iglu:dev.furrow/pii_masked_value/jsonschema/1-0-0"
_MATCH_CACHE_SIZE = 4096

_HASHES: dict[str, Callable[[bytes], Any]] = {
    "MD5": hashlib.md5,
    "SHA-1": hashlib.sha1,
    "SHA-256": hashlib.sha256,
    "SHA-384": hashlib.sha384,
    "SHA-512": hashlib.sha512,
}


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
_JSON_COLUMNS = frozenset(get_args(JsonColumn))
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


@dataclass(frozen=True, slots=True)
class _JsonRule:
    criterion: SchemaCriterion
    json_path: str
    steps: tuple[Step, ...]
    strategy: Strategy


class Pii:
    """Masks the configured fields."""

    name = NAME

    def __init__(self, parameters: PiiParameters, *, anonymous_only: bool = False) -> None:
        strategy = parameters.strategy
        pseudonymize = strategy.pseudonymize
        self._hash_function = _HASHES[pseudonymize.hash_function] if pseudonymize else None
        self._salt = pseudonymize.salt if pseudonymize else ""
        self._keep_leading = strategy.mask.keep_leading
        self._keep_trailing = strategy.mask.keep_trailing
        self._mask_character = strategy.mask.character
        self._anonymous_only = anonymous_only
        self._pojo: list[tuple[str, Strategy]] = []
        self._json: dict[str, list[_JsonRule]] = {}
        for entry in parameters.pii:
            if entry.pojo is not None:
                self._pojo.append((entry.pojo.field, entry.pojo.strategy or strategy.default))
            elif entry.json_field is not None:
                rule = entry.json_field
                self._json.setdefault(rule.field, []).append(
                    _JsonRule(
                        SchemaCriterion.parse(rule.schema_criterion),
                        rule.json_path,
                        parse_json_path(rule.json_path),
                        rule.strategy or strategy.default,
                    )
                )
        self.reads_derived_contexts = "derived_contexts" in self._json
        self._matching: dict[tuple[str, str], tuple[_JsonRule, ...]] = {}
        self._markers = {
            field: tuple({f'"iglu:{r.criterion.vendor}/{r.criterion.name}/' for r in rules})
            for field, rules in self._json.items()
        }

    def apply(self, event: EnrichedEvent, raw: RawEvent) -> list[SelfDescribingJson]:
        if self._anonymous_only and not _is_anonymous(raw):
            return []
        masked: list[SelfDescribingJson] = []
        for field, strategy in self._pojo:
            value = event.get(field)
            if not value or strategy == "FULL":
                continue
            if strategy == "NONE":
                del event[field]
            else:
                event[field] = self._transform(value, strategy, masked, {"field": field})
        for field, rules in self._json.items():
            text = event.get(field)
            # Most events carry none of the schemas named: skip decoding their JSON.
            if text and any(marker in text for marker in self._markers[field]):
                changed = self._mask_json(field, text, rules, masked)
                if changed is not None:
                    event[field] = changed
        return masked

    def hash(self, value: str) -> str:
        """The pseudonym of `value`: hex digest of the value followed by the salt."""
        assert self._hash_function is not None
        text = (value + self._salt).encode("utf-8", "surrogatepass")
        digest: str = self._hash_function(text).hexdigest()
        return digest

    def mask(self, value: str) -> str:
        """`value` with all but the configured leading and trailing characters replaced."""
        leading, trailing, character = (
            self._keep_leading,
            self._keep_trailing,
            self._mask_character,
        )
        if len(value) <= leading + trailing:
            return character * len(value)
        hidden = len(value) - leading - trailing
        return value[:leading] + character * hidden + value[len(value) - trailing :]

    def _transform(
        self,
        value: str,
        strategy: Strategy,
        masked: list[SelfDescribingJson],
        where: dict[str, str],
    ) -> str:
        if strategy == "HASH":
            return self.hash(value)
        if strategy == "MASK":
            return self.mask(value)
        pseudonym = self.hash(value)
        masked.append(
            {
                "schema": MASKED_VALUE_SCHEMA,
                "data": {**where, "masked": self.mask(value), "hash": pseudonym},
            }
        )
        return pseudonym

    def _mask_json(
        self, field: str, text: str, rules: list[_JsonRule], masked: list[SelfDescribingJson]
    ) -> str | None:
        try:
            document = orjson.loads(text)
            data = document["data"]
        except (orjson.JSONDecodeError, TypeError, KeyError):
            return None  # not this enrichment's business: validation has judged the event
        entities = [data] if field == "unstruct_event" else data
        changed = False
        for entity in entities if isinstance(entities, list) else ():
            schema = entity.get("schema") if isinstance(entity, dict) else None
            if not isinstance(schema, str) or "data" not in entity:
                continue
            for rule in self._rules_for(field, schema, rules):
                where = {"field": field, "schema": schema, "jsonPath": rule.json_path}
                changed |= self._mask_locations(
                    locate(entity, "data", rule.steps), rule.strategy, masked, where
                )
        return orjson.dumps(document).decode() if changed else None

    def _rules_for(self, field: str, schema: str, rules: list[_JsonRule]) -> tuple[_JsonRule, ...]:
        # Events carry few distinct schemas: remember which rules each one matches.
        key = (field, schema)
        matching = self._matching.get(key)
        if matching is None:
            matching = tuple(rule for rule in rules if rule.criterion.matches(schema))
            if len(self._matching) < _MATCH_CACHE_SIZE:
                self._matching[key] = matching
        return matching

    def _mask_locations(
        self,
        locations: list[Location],
        strategy: Strategy,
        masked: list[SelfDescribingJson],
        where: dict[str, str],
    ) -> bool:
        if strategy == "FULL" or not locations:
            return False
        if strategy == "NONE":
            # Array items go last to first so that the indexes still to remove stay right.
            unique = {(id(container), key): (container, key) for container, key in locations}
            for container, key in sorted(
                unique.values(), key=lambda place: -place[1] if isinstance(place[1], int) else 0
            ):
                del container[key]
            return True
        changed = False
        for container, key in locations:
            value = container[key]
            if isinstance(value, str):
                container[key] = self._transform(value, strategy, masked, where)
                changed = True
            elif isinstance(value, list):
                # An array the path names has its strings masked one by one, as in Snowplow.
                for index, item in enumerate(value):
                    if isinstance(item, str):
                        value[index] = self._transform(item, strategy, masked, where)
                        changed = True
        return changed


def _is_anonymous(raw: RawEvent) -> bool:
    return any(header[:13].lower() == "sp-anonymous:" for header in raw.payload.headers)


def from_config(parameters: Mapping[str, Any], extras: Mapping[str, Any], directory: Path) -> Pii:
    if extras.get("emitEvent") is True:
        raise ValueError(
            "emitEvent: true is not supported (Furrow emits no pii_transformation events); "
            "set it to false"
        )
    anonymous_only = extras.get("anonymousOnly", False)
    if not isinstance(anonymous_only, bool):
        raise ValueError("anonymousOnly must be true or false")
    return Pii(PiiParameters.model_validate(parameters), anonymous_only=anonymous_only)
