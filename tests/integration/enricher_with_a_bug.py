"""`furrow enrich` with a bug planted in it: its validator raises on one standard schema, as a
real bug would on some record no test foresaw. Run as
`python -m tests.integration.enricher_with_a_bug` with the enricher's usual environment."""

from __future__ import annotations

import dataclasses
from typing import Any

import services.enrich.__main__ as enrich
from libs.iglu_client import Issue
from services.enrich.config import EnrichConfig
from services.enrich.core import Enricher, Validator

# Built in: the enricher without the bug finds such an event good.
PLANTED_BUG_SCHEMA = "iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1"
BUILD_ENRICHER = enrich.build_enricher


class ValidatorWithABug:
    def __init__(self, validator: Validator) -> None:
        self._validator = validator

    def validate(self, instance: dict[str, Any]) -> list[Issue]:
        if instance.get("schema") == PLANTED_BUG_SCHEMA:
            raise RuntimeError("the planted bug")
        return self._validator.validate(instance)


def build_enricher_with_a_bug(config: EnrichConfig) -> Enricher:
    enricher = BUILD_ENRICHER(config)
    return dataclasses.replace(enricher, validator=ValidatorWithABug(enricher.validator))


if __name__ == "__main__":
    enrich.build_enricher = build_enricher_with_a_bug
    enrich.run(None)
