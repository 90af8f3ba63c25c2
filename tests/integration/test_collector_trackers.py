"""The real Snowplow trackers (Python from PyPI, Node from npm) against the running collector:
every event they send is in `raw`, decoded field by field."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from snowplow_tracker import (
    Emitter,
    PageView,
    SelfDescribing,
    SelfDescribingJson,
    StructuredEvent,
    Tracker,
)

from devstack.furrow import Endpoint
from tests.integration.raw import TopicTail, events_in, self_describing

NODE_PROJECT = Path(__file__).resolve().parents[1] / "node"
CHECKOUT = "iglu:com.acme/checkout/jsonschema/1-0-0"
USER = "iglu:com.acme/user/jsonschema/1-0-0"
METHODS_AND_ENCODINGS = [("get", True), ("get", False), ("post", True), ("post", False)]


@pytest.fixture
def collector_port(furrow_stack: list[Endpoint]) -> int:
    collector = next(e for e in furrow_stack if e.component == "collector")
    return int(collector.listens.rsplit(":", 1)[1])


@pytest.fixture
async def raw_tail(kafka_bootstrap: str, collector_port: int) -> AsyncIterator[TopicTail]:
    async with TopicTail(kafka_bootstrap, "raw") as tail:
        yield tail


@pytest.fixture(scope="session")
def node_tracker() -> Path:
    """The Node project with @snowplow/node-tracker installed from its lock file."""
    npm = shutil.which("npm")
    assert npm, "npm is needed for the Node tracker tests"
    if not (NODE_PROJECT / "node_modules" / "@snowplow" / "node-tracker").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_PROJECT, check=True)
    return NODE_PROJECT


def marked(marker: str) -> Callable[[list[bytes]], bool]:
    """True once the three events of the tracker run `marker` have been read."""
    return lambda values: len([e for e in events_in(values) if e.get("aid") == marker]) >= 3


def check_events(events: list[dict[str, str]], marker: str, tracker_prefix: str, b64: bool) -> None:
    """The three events each tracker sends: a page view, a structured event and a
    self-describing event with a user entity."""
    ours = [event for event in events if event.get("aid") == marker]
    assert sorted(event["e"] for event in ours) == ["pv", "se", "ue"]
    for event in ours:
        assert event["tv"].startswith(tracker_prefix), event
        assert event["p"] in ("srv", "pc")
        assert len(event["eid"]) == 36
        assert event["dtm"].isdigit()
        assert event["tna"] == "furrow-test"
    assert len({event["eid"] for event in ours}) == 3
    page_view = next(event for event in ours if event["e"] == "pv")
    assert page_view["url"] == f"https://shop.example.com/{marker}"
    assert page_view["page"] == "Home"
    structured = next(event for event in ours if event["e"] == "se")
    assert (structured["se_ca"], structured["se_ac"], structured["se_la"]) == (
        "shop",
        "add",
        marker,
    )
    assert float(structured["se_va"]) == 2.5
    unstructured = next(event for event in ours if event["e"] == "ue")
    assert ("ue_px" in unstructured) is b64 and ("ue_pr" in unstructured) is not b64
    envelope = self_describing(unstructured, "ue_pr", "ue_px")
    assert (
        envelope["schema"] == "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"
    )
    assert envelope["data"] == {"schema": CHECKOUT, "data": {"total": 12}}
    contexts = self_describing(unstructured, "co", "cx")
    assert contexts["schema"].startswith(
        "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-"
    )
    assert {"schema": USER, "data": {"plan": "pro"}} in contexts["data"]


@pytest.mark.parametrize(("method", "b64"), METHODS_AND_ENCODINGS)
async def test_python_tracker(
    raw_tail: TopicTail, collector_port: int, method: str, b64: bool
) -> None:
    marker = f"py-{uuid.uuid4()}"
    failures: list[object] = []
    emitter = Emitter(
        "127.0.0.1",
        protocol="http",
        port=collector_port,
        method=method,  # type: ignore[arg-type]
        batch_size=3 if method == "post" else 1,
        on_failure=lambda count, events: failures.append(count),
    )
    tracker = Tracker("furrow-test", emitter, app_id=marker, encode_base64=b64)
    user = SelfDescribingJson(USER, {"plan": "pro"})

    def send() -> None:
        tracker.track(PageView(page_url=f"https://shop.example.com/{marker}", page_title="Home"))
        tracker.track(StructuredEvent(category="shop", action="add", label=marker, value=2.5))
        tracker.track(SelfDescribing(SelfDescribingJson(CHECKOUT, {"total": 12}), context=[user]))
        emitter.flush()

    await asyncio.to_thread(send)
    records = await raw_tail.read(marked(marker))
    assert failures == []
    check_events(events_in(records), marker, "py-", b64)


@pytest.mark.parametrize(("method", "b64"), METHODS_AND_ENCODINGS)
async def test_node_tracker(
    raw_tail: TopicTail, collector_port: int, node_tracker: Path, method: str, b64: bool
) -> None:
    marker = f"node-{uuid.uuid4()}"
    encoding = "base64" if b64 else "plain"
    process = await asyncio.create_subprocess_exec(
        "node", "send_events.mjs", str(collector_port), method, encoding, marker, cwd=node_tracker
    )
    assert await process.wait() == 0
    records = await raw_tail.read(marked(marker))
    check_events(events_in(records), marker, "node-", b64)
