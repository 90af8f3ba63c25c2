"""Property-based: requests generated from the registry's own OpenAPI document never make it fail
(no 5xx) and every answer matches what the document promises. Bounded to stay quick."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.registry_servers import RegistryServer

EXAMPLES_PER_OPERATION = 25
# Not "positive data acceptance": a body that is any JSON object is schema-valid for OpenAPI, yet
# most such bodies are rightly refused by lint with a 400.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_no_generated_request_fails_the_registry(registry: RegistryServer) -> None:
    api = schemathesis.openapi.from_url(f"{registry.url}/api/openapi.json")
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) == 16
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            database=None,
        )
        def answers_without_failing(case: schemathesis.Case) -> None:
            # With the super key the requests get past authorization into lint, order and
            # storage, where failures would hide.
            response = case.call(headers={"apikey": registry.super_key}, timeout=10)
            assert response.status_code < 500, response.text
            case.validate_response(response, checks=CHECKS)

        answers_without_failing()
