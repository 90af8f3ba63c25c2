"""How long a sink's daily indices are kept: an ILM policy that deletes them once older than the
retention period, or, where Elasticsearch has no ILM running, the sink deleting them itself.

A daily index's age counts from its day (`index.lifecycle.parse_origination_date` reads it from
the name), not from when it was made: bad rows about old events, or a backlog, make old days'
indices late, and they go when their day is past the period, like the others.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from elasticsearch import ApiError, AsyncElasticsearch

from services.sinks.mappings import index_name

logger = logging.getLogger(__name__)

DAY_FORMAT = "%Y.%m.%d"
# How often a sink looks for expired indices itself, without ILM.
SWEEP_EVERY_S = 3600.0


def policy_name(alias: str) -> str:
    return f"furrow-{alias}"


def delete_policy(retention_days: int) -> dict[str, Any]:
    """The body of `PUT _ilm/policy/<policy_name(alias)>`: delete at `retention_days`."""
    return {
        "_meta": {"managed_by": "furrow"},
        "phases": {"delete": {"min_age": f"{retention_days}d", "actions": {"delete": {}}}},
    }


def expired_indices(
    names: Iterable[str], alias: str, today: date, retention_days: int
) -> list[str]:
    """Of `names`, the daily indices of `alias` whose day is `retention_days` or more before
    `today`; other names are left alone."""
    expired = []
    for name in names:
        day = _day_of(name, alias)
        if day is not None and (today - day).days >= retention_days:
            expired.append(name)
    return sorted(expired)


def _day_of(name: str, alias: str) -> date | None:
    suffix = name.removeprefix(f"{alias}-")
    if suffix == name or len(suffix) != len("YYYY.MM.DD"):
        return None
    try:
        return datetime.strptime(suffix, DAY_FORMAT).date()
    except ValueError:
        return None


async def ilm_running(client: AsyncElasticsearch) -> bool:
    """Whether Elasticsearch applies ILM policies for us: not OpenSearch, not ILM stopped, and
    our credentials allowed to use it (`manage_ilm`; without it the sink sweeps itself)."""
    try:
        status = await client.ilm.get_status()
    except ApiError as error:
        if error.meta.status == 403:
            logger.warning("ILM not used: the credentials lack the cluster privilege manage_ilm")
            return False
        if error.meta.status in (400, 404, 405):
            return False
        raise
    return bool(status["operation_mode"] == "RUNNING")


async def install_policy(client: AsyncElasticsearch, alias: str, retention_days: int) -> str:
    policy = policy_name(alias)
    await client.ilm.put_lifecycle(name=policy, policy=delete_policy(retention_days))
    logger.info("retention policy installed", extra={"policy": policy, "days": retention_days})
    return policy


async def delete_expired(
    client: AsyncElasticsearch, alias: str, today: date, retention_days: int
) -> list[str]:
    """Delete the expired daily indices of `alias` (the sink's own sweep, without ILM)."""
    found = await client.indices.get(index=index_name(alias, "2*"), allow_no_indices=True)
    expired = expired_indices(found.body, alias, today, retention_days)
    if expired:
        await client.indices.delete(index=",".join(expired), ignore_unavailable=True)
        logger.info("expired indices deleted", extra={"indices": expired})
    return expired
