import pytest

# The registry's server fixtures live in their own module; importing them here makes them
# visible to every integration test.
from tests.integration.registry_servers import database, patched_registry, registry, vendor

__all__ = ["database", "patched_registry", "registry", "vendor"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.servers)
