"""Elasticsearch for the sinks: the index template installed on start, and bulk indexing that
waits out whatever Elasticsearch may accept later and reports what it never will."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from elasticsearch import ApiError, AsyncElasticsearch, TransportError
from elasticsearch.serializer import OrjsonSerializer
from prometheus_client import Counter

from libs.backoff import Backoff
from libs.config import ElasticsearchSettings, SetupError
from libs.elastic import credentials, elasticsearch_client, setup_problem
from services.sinks.bulks import BulkItem
from services.sinks.config import SinkConfig, SinkKind
from services.sinks.mappings import (
    dynamic_settings,
    index_template,
    lifecycle_settings,
    template_name,
)
from services.sinks.retention import ilm_running, install_policy

logger = logging.getLogger(__name__)

# Enough of each item to tell success, a reason to retry and a reason to give up.
_BULK_FILTER = (
    "errors,items.*.status,items.*.error.type,items.*.error.reason,items.*.error.caused_by.reason"
)
_BULK_HEADERS = {"accept": "application/json", "content-type": "application/x-ndjson"}

RETRIES = Counter(
    "furrow_sink_bulk_retries_total", "Bulk requests or documents sent again", ["index"]
)


class SinkSetupError(SetupError):
    """Elasticsearch holds something that stops the sink from starting; the message says what."""


@dataclass(frozen=True, slots=True)
class Rejection:
    """A document Elasticsearch refused for good (a mapping conflict, say), with its reason."""

    item: BulkItem
    reason: str


def elastic_client(config: SinkConfig) -> AsyncElasticsearch:
    """The client a sink talks to Elasticsearch with."""
    return elasticsearch_client(
        config.elasticsearch,
        request_timeout=config.request_timeout_s,
        # Retries are the indexer's (with backoff, for as long as it takes), not the client's.
        max_retries=0,
        # A bulk answer lists every document: the standard json module takes milliseconds.
        serializer=OrjsonSerializer(),
    )


async def install_template(client: AsyncElasticsearch, kind: SinkKind, config: SinkConfig) -> bool:
    """Put the index template for `config.index` in place, with the ILM policy that deletes its
    daily indices past `config.retention_days` where Elasticsearch runs ILM, waiting for
    Elasticsearch as long as it takes. True when the retention is left to the sink (ILM not
    running). Raises SinkSetupError when a plain index already has the alias's name (written by
    an earlier release): the alias cannot be made until that index is moved or deleted; and when
    Elasticsearch refuses the `[elasticsearch]` settings (credentials, CA, TLS), naming them."""
    alias = config.index
    backoff = Backoff(config.max_backoff_s)
    while True:
        try:
            ilm = await ilm_running(client)
            policy = None
            if ilm and config.retention_days:
                policy = await install_policy(client, alias, config.retention_days)
            body = index_template(
                kind,
                alias,
                refresh_interval=config.refresh_interval,
                total_fields_limit=config.total_fields_limit,
                lifecycle_policy=policy,
            )
            has_alias = await client.indices.exists_alias(name=alias)
            if not has_alias and await client.indices.exists(index=alias):
                raise SinkSetupError(
                    f"Elasticsearch has an index named {alias!r} where Furrow needs an alias over "
                    f"daily indices {alias}-YYYY.MM.DD; reindex it into one of those and delete "
                    f"it, or delete it if its documents can go (curl -X DELETE {alias} on the "
                    "cluster), then start the sink again"
                )
            await client.indices.put_index_template(name=template_name(alias), body=body)
            if has_alias:
                # The template shapes the indices made from now on; the settings that can change
                # also change on those behind the alias, so a new refresh_interval counts from
                # this start rather than from tomorrow's index.
                settings = dynamic_settings(
                    refresh_interval=config.refresh_interval,
                    total_fields_limit=config.total_fields_limit,
                )
                if ilm:
                    # A retention changed or turned off applies to the indices there too.
                    settings |= lifecycle_settings(policy)
                await client.indices.put_settings(
                    index=alias, settings=settings, ignore_unavailable=True
                )
        except (TransportError, ApiError) as error:
            problem = await asyncio.to_thread(setup_problem, config.elasticsearch, error)
            if problem is not None:
                raise SinkSetupError(problem) from None
            if isinstance(error, ApiError) and not _is_transient(error.meta.status):
                raise
            logger.warning(
                "Elasticsearch not ready for the index template, retrying",
                extra={"error": repr(error), "index": alias},
            )
            await backoff.wait()
        else:
            logger.info("index template installed", extra={"template": template_name(alias)})
            return bool(config.retention_days) and not ilm


class BulkIndexer:
    """Bulk requests to one alias. Refused credentials (401) are waited out like an outage: a
    rotated API key or password is read again from its file before each retry, and the health
    says why meanwhile."""

    def __init__(
        self,
        client: AsyncElasticsearch,
        alias: str,
        *,
        max_backoff_s: float,
        settings: ElasticsearchSettings,
    ) -> None:
        self._client = client
        self._alias = alias
        self._max_backoff_s = max_backoff_s
        self._settings = settings
        self._refused: str | None = None

    def health_problem(self) -> str | None:
        return self._refused

    @property
    def alias(self) -> str:
        return self._alias

    async def index(self, items: Sequence[BulkItem]) -> list[Rejection]:
        """Index every item, waiting out Elasticsearch being down or overloaded for as long as it
        takes; return the documents it rejected for reasons retrying cannot fix."""
        pending = list(items)
        rejections: list[Rejection] = []
        backoff = Backoff(self._max_backoff_s)
        while pending:
            try:
                response = await self._client.perform_request(
                    "POST",
                    "/_bulk",
                    params={"filter_path": _BULK_FILTER},
                    headers=_BULK_HEADERS,
                    body=b"".join(item.lines for item in pending),
                )
            except (TransportError, ApiError) as error:
                if _refused_credentials(error):
                    self._refused = setup_problem(self._settings, error)
                    logger.error("%s; retrying", self._refused, extra={"index": self._alias})
                    self._client = self._client.options(**credentials(self._settings))
                elif isinstance(error, ApiError) and not _is_transient(error.meta.status):
                    raise
                else:
                    logger.warning(
                        "bulk request failed, retrying",
                        extra={
                            "error": repr(error),
                            "documents": len(pending),
                            "index": self._alias,
                        },
                    )
            else:
                self._refused = None
                if not response["errors"]:
                    break
                retry: list[BulkItem] = []
                why = ""
                for item, result in zip(pending, response["items"], strict=True):
                    outcome = result["index"]
                    status = outcome["status"]
                    if status < 300:
                        continue
                    if status == 400:
                        rejections.append(Rejection(item, _reason(outcome.get("error"))))
                    else:
                        # 429 (queue full), 5xx, and anything unexpected: a whole index blocked,
                        # say. Waiting is what keeps every document; the log says why.
                        retry.append(item)
                        why = f"{status} {_reason(outcome.get('error'))}"
                if retry:
                    logger.warning(
                        "documents not indexed yet, retrying",
                        extra={"documents": len(retry), "index": self._alias, "reason": why},
                    )
                pending = retry
                if not pending:
                    break
            RETRIES.labels(self._alias).inc()
            await backoff.wait()
        return rejections


def _refused_credentials(error: TransportError | ApiError) -> bool:
    return isinstance(error, ApiError) and error.meta.status == 401


def _is_transient(status: int) -> bool:
    return status == 429 or status >= 500


def _reason(error: Any) -> str:
    if isinstance(error, dict):
        cause = error.get("caused_by", {}).get("reason")
        reason = f"{error.get('type')}: {error.get('reason')}"
        return f"{reason} ({cause})" if cause else reason
    return str(error)
