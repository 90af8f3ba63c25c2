"""BulkIndexer's retry rules on scripted Elasticsearch answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from elastic_transport import ApiResponseMeta, ConnectionError, HttpHeaders, NodeConfig
from elasticsearch import ApiError

from libs.config import ElasticsearchSettings
from libs.pipes import Record
from services.sinks.bulks import bulk_item
from services.sinks.documents import Document
from services.sinks.elastic import BulkIndexer


def failed(status: int, message: str) -> ApiError:
    meta = ApiResponseMeta(status, "1.1", HttpHeaders(), 0.0, NodeConfig("http", "es", 9200))
    return ApiError(message, meta=meta, body={})


def item(status: int, error: str | None = None) -> dict[str, Any]:
    outcome: dict[str, Any] = {"status": status}
    if error:
        outcome["error"] = {"type": error, "reason": f"{error} happened"}
    return {"index": outcome}


NO_CREDENTIALS = ElasticsearchSettings()


class ScriptedElasticsearch:
    """Answers each bulk request with the next of `answers` (an exception is raised)."""

    def __init__(self, answers: list[dict[str, Any] | Exception]) -> None:
        self.answers = answers
        self.requests: list[list[str]] = []
        self.credentials: list[dict[str, Any]] = []
        self.before_answer: Callable[[], Awaitable[None]] | None = None

    def options(self, **credentials: Any) -> ScriptedElasticsearch:
        self.credentials.append(credentials)
        return self

    async def perform_request(self, method: str, path: str, **request: Any) -> dict[str, Any]:
        if self.before_answer is not None:
            await self.before_answer()
        lines = request["body"].splitlines()
        self.requests.append([orjson.loads(line)["index"]["_id"] for line in lines[::2]])
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def items(*ids: str) -> list[Any]:
    return [
        bulk_item("good", Document(id_, "2026.11.23", b'{"n":1}', Record("t", 0, 0, b"")))
        for id_ in ids
    ]


async def index(answers: list[dict[str, Any] | Exception], *ids: str) -> tuple[list[str], Any]:
    es = ScriptedElasticsearch(answers)
    indexer = BulkIndexer(es, "good", max_backoff_s=0.01, settings=NO_CREDENTIALS)  # type: ignore[arg-type]
    rejections = await indexer.index(items(*ids))
    return [rejection.item.id for rejection in rejections], es.requests


async def test_overloaded_documents_are_sent_again_and_refused_ones_reported() -> None:
    first = {"errors": True, "items": [item(201), item(429, "es_rejected"), item(400, "mapper")]}
    second = {"errors": True, "items": [item(503, "unavailable")]}
    third = {"errors": False}
    refused, requests = await index([first, second, third], "a", "b", "c")
    assert refused == ["c"]
    assert requests == [["a", "b", "c"], ["b"], ["b"]]


@pytest.mark.parametrize(
    "outage", [ConnectionError("refused"), failed(429, "too many"), failed(502, "bad gateway")]
)
async def test_whole_requests_that_may_work_later_are_retried(outage: Exception) -> None:
    refused, requests = await index([outage, outage, {"errors": False}], "a")
    assert refused == []
    assert requests == [["a"], ["a"], ["a"]]


async def test_a_whole_request_refused_for_good_is_an_error() -> None:
    with pytest.raises(ApiError):
        await index([failed(400, "malformed")], "a")


async def test_reasons_name_the_error_and_its_cause() -> None:
    answer = {
        "errors": True,
        "items": [
            {
                "index": {
                    "status": 400,
                    "error": {
                        "type": "document_parsing_exception",
                        "reason": "failed to parse field [n]",
                        "caused_by": {"reason": "not a number"},
                    },
                }
            }
        ],
    }
    es = ScriptedElasticsearch([answer])
    indexer = BulkIndexer(es, "good", max_backoff_s=0.01, settings=NO_CREDENTIALS)  # type: ignore[arg-type]
    (rejection,) = await indexer.index(items("a"))
    assert rejection.reason == (
        "document_parsing_exception: failed to parse field [n] (not a number)"
    )


async def test_refused_credentials_are_read_again_and_retried_meanwhile_unhealthy(
    tmp_path: Path,
) -> None:
    key_file = tmp_path / "api-key"
    key_file.write_text("id:old\n")
    settings = ElasticsearchSettings(url="https://es:9200", api_key_file=key_file)
    es = ScriptedElasticsearch([failed(401, "unable to authenticate"), {"errors": False}])
    indexer = BulkIndexer(es, "good", max_backoff_s=0.01, settings=settings)  # type: ignore[arg-type]
    unhealthy: list[str | None] = []

    async def rotate(*_: object) -> None:
        unhealthy.append(indexer.health_problem())
        key_file.write_text("id:new\n")

    es.before_answer = rotate
    assert await indexer.index(items("a")) == []
    assert unhealthy[1] is not None and "check [elasticsearch] api_key" in unhealthy[1]
    assert "new" not in unhealthy[1]
    assert es.credentials == [{"api_key": ("id", "new")}]
    assert indexer.health_problem() is None
