"""Bulk indexing that retries what Elasticsearch may accept later and reports what it never will."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from elasticsearch import ApiError, AsyncElasticsearch, TransportError

from services.sinks.documents import Document

logger = logging.getLogger(__name__)

MAX_BACKOFF_S = 30.0


@dataclass(frozen=True, slots=True)
class Rejection:
    """A document Elasticsearch refused for good (a mapping conflict, say), with its reason."""

    document: Document
    reason: str


def _is_transient(status: int) -> bool:
    return status == 429 or status >= 500


class BulkIndexer:
    def __init__(self, client: AsyncElasticsearch, index: str) -> None:
        self._client = client
        self._index = index

    async def index(self, documents: Sequence[Document]) -> list[Rejection]:
        """Index every document, waiting out Elasticsearch being down or overloaded for as long as
        it takes; return the documents it rejected for reasons retrying cannot fix."""
        pending = list(documents)
        rejections: list[Rejection] = []
        backoff_s = 0.5
        while pending:
            try:
                response = await self._client.bulk(
                    operations=_operations(pending), index=self._index
                )
            except (TransportError, ApiError) as error:
                if isinstance(error, ApiError) and not _is_transient(error.meta.status):
                    raise
                logger.warning(
                    "bulk request failed, retrying",
                    extra={"error": repr(error), "documents": len(pending)},
                )
            else:
                retry: list[Document] = []
                for document, item in zip(pending, response["items"], strict=True):
                    result = item["index"]
                    status = result["status"]
                    if status < 300:
                        continue
                    if _is_transient(status):
                        retry.append(document)
                    else:
                        rejections.append(Rejection(document, _reason(result.get("error"))))
                pending = retry
                if not pending:
                    break
            await asyncio.sleep(backoff_s)
            backoff_s = min(backoff_s * 2, MAX_BACKOFF_S)
        return rejections


def _reason(error: object) -> str:
    if isinstance(error, dict):
        cause = error.get("caused_by", {}).get("reason")
        reason = f"{error.get('type')}: {error.get('reason')}"
        return f"{reason} ({cause})" if cause else reason
    return str(error)


def _operations(documents: Sequence[Document]) -> list[dict[str, Any]]:
    operations: list[dict[str, Any]] = []
    for document in documents:
        operations.append({"index": {"_id": document.id}})
        operations.append(document.source)
    return operations
