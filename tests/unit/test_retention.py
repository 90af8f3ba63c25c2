from datetime import date

import pytest

from services.sinks.mappings import index_template
from services.sinks.retention import delete_policy, expired_indices

TODAY = date(2026, 12, 3)


@pytest.mark.parametrize(
    ("names", "retention_days", "expired"),
    [
        (["bad-2026.12.03", "bad-2026.11.04", "bad-2026.11.03"], 30, ["bad-2026.11.03"]),
        (["bad-2026.12.03", "bad-2026.12.02"], 1, ["bad-2026.12.02"]),
        (["bad-2025.01.01", "bad-2026.12.04"], 30, ["bad-2025.01.01"]),
        # Not daily indices of this alias: never touched.
        (["bad", "bad-archive", "bad-2026.13.01", "badx-2020.01.01", "bad-2020.01.01-1"], 1, []),
        (["bad-v2-2020.01.01"], 1, []),
    ],
)
def test_daily_indices_expire_when_their_day_is_the_retention_old(
    names: list[str], retention_days: int, expired: list[str]
) -> None:
    assert expired_indices(names, "bad", TODAY, retention_days) == expired


def test_the_policy_deletes_at_the_retention() -> None:
    assert delete_policy(30)["phases"] == {"delete": {"min_age": "30d", "actions": {"delete": {}}}}


@pytest.mark.parametrize(
    ("policy", "lifecycle"),
    [
        ("furrow-bad", {"lifecycle.name": "furrow-bad", "lifecycle.parse_origination_date": True}),
        (None, {}),
    ],
)
def test_daily_indices_get_the_policy_with_their_day_as_origin(
    policy: str | None, lifecycle: dict[str, object]
) -> None:
    template = index_template(
        "bad", "bad", refresh_interval="1s", total_fields_limit=2000, lifecycle_policy=policy
    )
    settings = template["template"]["settings"]
    found = {
        key.removeprefix("index."): value
        for key, value in settings.items()
        if key.startswith("index.lifecycle")
    }
    assert found == lifecycle
