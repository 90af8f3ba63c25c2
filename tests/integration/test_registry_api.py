"""The registry's HTTP API over real HTTP, on SQLite and on PostgreSQL (each test runs twice)."""

from __future__ import annotations

import concurrent.futures
from typing import Any

import httpx
import pytest

from libs.formats.iglu import SELF_DESCRIBING_SCHEMA
from libs.iglu_repositories import BuiltinRepository
from tests.integration.registry_servers import MAX_BODY_BYTES, RegistryServer
from tests.schema_trees import iglu_central_geolocation

CORE = "com.snowplowanalytics.snowplow"
BAD_ROWS = "com.snowplowanalytics.snowplow.badrows"


def schema(
    vendor: str, version: str = "1-0-0", name: str = "event", **extra: Any
) -> dict[str, Any]:
    return {
        "$schema": SELF_DESCRIBING_SCHEMA,
        "self": {"vendor": vendor, "name": name, "format": "jsonschema", "version": version},
        "type": "object",
        "properties": {"id": {"type": "string"}},
        **extra,
    }


def put(
    client: httpx.Client, vendor: str, version: str = "1-0-0", *, public: bool = True, **extra: Any
) -> httpx.Response:
    return client.put(
        f"/api/schemas/{vendor}/event/jsonschema/{version}",
        params={"isPublic": str(public).lower()},
        json=schema(vendor, version, **extra),
    )


def keys(registry: RegistryServer, prefix: str) -> dict[str, str]:
    answer = registry.admin.post("/api/auth/keygen", json={"vendorPrefix": prefix})
    assert answer.status_code == 201, answer.text
    generated: dict[str, str] = answer.json()
    return generated


# -- meta -----------------------------------------------------------------------------------------


def test_health_database_health_and_server_info(registry: RegistryServer) -> None:
    client = registry.client()
    assert client.get("/api/meta/health").text == "OK"
    assert client.get("/api/meta/health/db").text == "OK"
    info = registry.admin.get("/api/meta/server").json()
    assert info["database"] == {"sqlite": "sqlite", "postgres": "postgresql"}[registry.database]
    assert info["patchesAllowed"] is False
    assert info["authInfo"] == {"vendorPrefix": "*", "permission": "super"}
    # schemaCount counts the published schemas only: the built-in ones live in files.
    assert info["builtInSchemaCount"] == len(BuiltinRepository().schema_keys())
    assert client.get("/api/meta/server").json()["authInfo"]["permission"] is None


def test_metrics_count_requests_by_route_and_status(registry: RegistryServer) -> None:
    registry.client().get("/api/schemas/com.nobody/nothing/jsonschema/1-0-0")
    metrics = registry.client().get("/metrics").text
    assert 'furrow_registry_requests_total{route="read",status="404"}' in metrics
    assert "furrow_registry_cache_lookups_total" in metrics


def test_openapi_document_and_docs_page(registry: RegistryServer) -> None:
    document = registry.client().get("/api/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert "/api/schemas/{vendor}/{name}/{format}/{version}" in document["paths"]
    page = registry.client().get("/api/docs")
    assert page.headers["content-type"].startswith("text/html")
    assert "/api/auth/keygen" in page.text


# -- core schemas ---------------------------------------------------------------------------------


def test_core_schemas_are_loaded_public_and_lint_clean(registry: RegistryServer) -> None:
    listed = registry.client().get("/api/schemas").json()
    for uri in (
        f"iglu:{CORE}/payload_data/jsonschema/1-0-4",
        f"iglu:{CORE}/contexts/jsonschema/1-0-0",
        f"iglu:{CORE}/unstruct_event/jsonschema/1-0-0",
        f"iglu:{BAD_ROWS}/generic_error/jsonschema/1-0-0",
        f"iglu:{BAD_ROWS}/loader_parsing_error/jsonschema/2-0-0",
        f"iglu:{BAD_ROWS}/size_violation/jsonschema/1-0-0",
        f"iglu:{BAD_ROWS}/collector_payload_format_violation/jsonschema/1-0-0",
        f"iglu:{BAD_ROWS}/adapter_failures/jsonschema/1-0-0",
        f"iglu:{BAD_ROWS}/tracker_protocol_violations/jsonschema/1-0-1",
        f"iglu:{BAD_ROWS}/schema_violations/jsonschema/2-0-1",
        f"iglu:{BAD_ROWS}/enrichment_failures/jsonschema/2-0-1",
        f"iglu:{BAD_ROWS}/loader_runtime_error/jsonschema/1-0-1",
    ):
        assert uri in listed
    canonical = registry.client().get(f"/api/schemas/{BAD_ROWS}/generic_error/jsonschema/1-0-0")
    lint = registry.client().post(
        "/api/validation/validate/schema/jsonschema", json=canonical.json()
    )
    assert lint.status_code == 200, lint.text


def test_bad_rows_furrow_emits_validate_against_the_core_schemas(registry: RegistryServer) -> None:
    from datetime import UTC, datetime

    import orjson

    from libs.formats import badrows

    rows = [
        badrows.generic_error("enrich", ["boom"], "payload", now=datetime.now(UTC)),
        badrows.loader_parsing_error("sink-good", {"type": "NotTSV"}, "x"),
    ]
    for row in rows:
        answer = registry.client().post(
            "/api/validation/validate/instance", content=orjson.dumps(orjson.loads(row))
        )
        assert answer.status_code == 200, answer.text


def test_builtin_schemas_are_listed_as_built_in_and_a_push_of_the_same_key_wins(
    patched_registry: RegistryServer,
) -> None:
    # Built-in schemas are served from files, not stored: publishing Iglu Central's own text
    # for one of their keys is not a conflict, and the published copy is what reads give.
    path = f"/api/schemas/{CORE}/geolocation_context/jsonschema/1-1-0"
    client = patched_registry.client()
    listed = client.get(f"/api/schemas/{CORE}/geolocation_context", params={"repr": "meta"})
    builtin_meta = next(m for m in listed.json() if m["self"]["version"] == "1-1-0")
    assert builtin_meta["metadata"]["builtIn"] is True
    builtin = client.get(path).json()
    upstream = {
        "$schema": SELF_DESCRIBING_SCHEMA,
        "self": builtin["self"],
        **iglu_central_geolocation(),
    }
    try:
        created = patched_registry.admin.put(path, json=upstream, params={"isPublic": "true"})
        assert created.status_code == 201, created.text
        assert client.get(path).json() == upstream
        listed = client.get(f"/api/schemas/{CORE}/geolocation_context", params={"repr": "meta"})
        published = [m for m in listed.json() if m["self"]["version"] == "1-1-0"]
        assert len(published) == 1
        assert "builtIn" not in published[0]["metadata"]
    finally:
        patched_registry.admin.delete(path)
    # Deleting the published copy brings the built-in one back.
    assert client.get(path).json() == builtin


# -- reading and writing --------------------------------------------------------------------------


def test_put_creates_and_every_representation_reads_it(
    registry: RegistryServer, vendor: str
) -> None:
    created = put(registry.admin, vendor)
    assert created.status_code == 201
    assert created.json() == {
        "message": "Schema created",
        "updated": False,
        "location": f"iglu:{vendor}/event/jsonschema/1-0-0",
        "status": 201,
    }
    client = registry.client()
    path = f"/api/schemas/{vendor}/event/jsonschema/1-0-0"
    assert client.get(path).json() == schema(vendor)
    assert client.get(path, params={"repr": "canonical"}).json() == schema(vendor)
    assert (
        client.get(path, params={"repr": "uri"}).json() == f"iglu:{vendor}/event/jsonschema/1-0-0"
    )
    meta = client.get(path, params={"repr": "meta"}).json()
    assert meta["self"] == schema(vendor)["self"]
    assert meta["metadata"]["isPublic"] is True
    assert meta["metadata"]["createdAt"].endswith("Z")
    assert client.get(path, params={"repr": "yaml"}).status_code == 400


def test_listings_by_vendor_name_and_format(registry: RegistryServer, vendor: str) -> None:
    put(registry.admin, vendor)
    put(registry.admin, vendor, "1-0-1")
    uris = [f"iglu:{vendor}/event/jsonschema/1-0-0", f"iglu:{vendor}/event/jsonschema/1-0-1"]
    client = registry.client()
    for path in (
        f"/api/schemas/{vendor}",
        f"/api/schemas/{vendor}/event",
        f"/api/schemas/{vendor}/event/jsonschema",
    ):
        assert client.get(path).json() == uris
    assert client.get(f"/api/schemas/{vendor}", params={"repr": "canonical"}).json() == [
        schema(vendor),
        schema(vendor, "1-0-1"),
    ]
    assert [
        m["self"]["version"] for m in client.get(f"/api/schemas/{vendor}?repr=meta").json()
    ] == [
        "1-0-0",
        "1-0-1",
    ]
    assert set(uris) <= set(client.get("/api/schemas").json())
    assert client.get(f"/api/schemas/{vendor}/other").status_code == 404


def test_put_without_self_takes_the_key_from_the_url(registry: RegistryServer, vendor: str) -> None:
    plain = {"$schema": "http://json-schema.org/draft-04/schema#", "type": "string"}
    answer = registry.admin.put(f"/api/schemas/{vendor}/plain/jsonschema/1-0-0", json=plain)
    assert answer.status_code == 201, answer.text
    stored = registry.admin.get(f"/api/schemas/{vendor}/plain/jsonschema/1-0-0").json()
    assert stored == {
        "$schema": SELF_DESCRIBING_SCHEMA,
        "self": {"vendor": vendor, "name": "plain", "format": "jsonschema", "version": "1-0-0"},
        "type": "string",
    }


def test_post_publishes_at_the_key_in_self(registry: RegistryServer, vendor: str) -> None:
    answer = registry.admin.post("/api/schemas", json=schema(vendor), params={"isPublic": "true"})
    assert answer.status_code == 201
    assert registry.client().get(f"/api/schemas/{vendor}/event/jsonschema/1-0-0").status_code == 200
    missing_self = {"type": "object"}
    assert registry.admin.post("/api/schemas", json=missing_self).status_code == 400


def test_self_must_match_the_url(registry: RegistryServer, vendor: str) -> None:
    answer = registry.admin.put(
        f"/api/schemas/{vendor}/event/jsonschema/1-0-0", json=schema(vendor, "1-0-1")
    )
    assert answer.status_code == 400
    assert answer.json()["report"][0]["pointer"] == "/self"


def test_lint_rejects_bad_keywords_wrong_types_and_broken_refs_with_a_report(
    registry: RegistryServer, vendor: str
) -> None:
    broken = schema(
        vendor,
        properties={
            "a": {"type": "string", "maxLenght": 3},
            "b": {"type": "strin"},
            "c": {"minLength": "three"},
            "d": {"$ref": "#/definitions/missing"},
        },
    )
    answer = registry.admin.put(f"/api/schemas/{vendor}/event/jsonschema/1-0-0", json=broken)
    assert answer.status_code == 400
    report = {(problem["pointer"], problem["level"]) for problem in answer.json()["report"]}
    # A misspelt keyword alone is a warning, as with igluctl; the report lists it beside the
    # errors that refused the schema.
    assert {pointer for pointer, level in report if level == "error"} == {
        "/properties/b/type",
        "/properties/c/minLength",
        "/properties/d/$ref",
    }
    assert ("/properties/a/maxLenght", "warning") in report
    assert registry.client().get(f"/api/schemas/{vendor}").status_code == 404


# -- SchemaVer order, visibility, patches ----------------------------------------------------------


def test_versions_are_published_in_order_and_a_409_names_what_is_missing(
    registry: RegistryServer, vendor: str
) -> None:
    first = put(registry.admin, vendor, "1-0-1")
    assert first.status_code == 409
    assert "1-0-0 must be published first" in first.json()["message"]
    assert put(registry.admin, vendor, "1-0-0").status_code == 201
    gap = put(registry.admin, vendor, "1-0-3")
    assert gap.status_code == 409
    assert "1-0-1, 1-0-2 must be published first" in gap.json()["message"]
    assert put(registry.admin, vendor, "1-1-0").status_code == 201
    assert "2-0-0 must be published first" in put(registry.admin, vendor, "3-0-0").json()["message"]
    assert put(registry.admin, vendor, "2-0-0").status_code == 201
    # A new addition of an older revision is still in order.
    assert put(registry.admin, vendor, "1-0-1").status_code == 201
    far = put(registry.admin, vendor, "1-0-2147483647")
    assert far.status_code == 409
    assert "1-0-2, 1-0-3, 1-0-4, 1-0-5, 1-0-6 and the versions between" in far.json()["message"]


def test_an_existing_version_is_a_conflict_without_patches(
    registry: RegistryServer, vendor: str
) -> None:
    put(registry.admin, vendor)
    again = put(registry.admin, vendor, description="changed")
    assert again.status_code == 409
    assert "already exists" in again.json()["message"]
    assert (
        "description"
        not in registry.admin.get(f"/api/schemas/{vendor}/event/jsonschema/1-0-0").json()
    )


def test_is_public_must_agree_with_the_other_versions(
    registry: RegistryServer, vendor: str
) -> None:
    put(registry.admin, vendor, public=False)
    answer = put(registry.admin, vendor, "1-0-1", public=True)
    assert answer.status_code == 409
    assert "isPublic" in answer.json()["message"]
    assert (
        registry.admin.put(
            f"/api/schemas/{vendor}/event/jsonschema/1-0-1",
            params={"isPublic": "maybe"},
            json=schema(vendor, "1-0-1"),
        ).status_code
        == 400
    )


def test_with_patches_a_put_overwrites_and_reads_see_it_at_once(
    patched_registry: RegistryServer, vendor: str
) -> None:
    put(patched_registry.admin, vendor)
    path = f"/api/schemas/{vendor}/event/jsonschema/1-0-0"
    assert "description" not in patched_registry.client().get(path).json()
    overwritten = put(patched_registry.admin, vendor, description="second")
    assert overwritten.status_code == 200
    assert overwritten.json()["updated"] is True
    assert patched_registry.client().get(path).json()["description"] == "second"


def test_delete_only_with_patches(
    registry: RegistryServer, patched_registry: RegistryServer, vendor: str
) -> None:
    put(registry.admin, vendor)
    forbidden = registry.admin.delete(f"/api/schemas/{vendor}/event/jsonschema/1-0-0")
    assert forbidden.status_code == 403
    assert "patches" in forbidden.json()["message"]
    put(patched_registry.admin, vendor)
    path = f"/api/schemas/{vendor}/event/jsonschema/1-0-0"
    assert patched_registry.client().get(path).status_code == 200
    assert patched_registry.client().delete(path).status_code == 403
    assert patched_registry.admin.delete(path).status_code == 200
    assert patched_registry.client().get(path).status_code == 404
    assert patched_registry.admin.delete(path).status_code == 404


def test_supersedes_in_supersedes_and_superseded_by_out(
    registry: RegistryServer, vendor: str
) -> None:
    put(registry.admin, vendor)
    answer = put(registry.admin, vendor, "1-0-1", **{"$supersedes": ["1-0-0"]})
    assert answer.status_code == 201, answer.text
    client = registry.client()
    old = client.get(f"/api/schemas/{vendor}/event/jsonschema/1-0-0").json()
    assert old["$supersededBy"] == "1-0-1"
    assert client.get(f"/api/schemas/{vendor}/event/jsonschema/1-0-1").json()["$supersedes"] == [
        "1-0-0"
    ]
    not_lower = put(registry.admin, vendor, "1-0-2", **{"$supersedes": ["1-0-3"]})
    assert not_lower.status_code == 400
    assert put(registry.admin, vendor, "1-1-0", **{"$supersedes": ["1-0-7"]}).status_code == 409


# -- keys and scopes ------------------------------------------------------------------------------


def test_private_schemas_are_404_without_a_read_key(registry: RegistryServer, vendor: str) -> None:
    put(registry.admin, vendor, public=False)
    path = f"/api/schemas/{vendor}/event/jsonschema/1-0-0"
    uri = f"iglu:{vendor}/event/jsonschema/1-0-0"
    assert registry.client().get(path).status_code == 404
    assert registry.client().get(f"/api/schemas/{vendor}").status_code == 404
    assert uri not in registry.client().get("/api/schemas").json()
    read = keys(registry, vendor)["read"]
    assert registry.client(read).get(path).status_code == 200
    assert uri in registry.client(read).get("/api/schemas").json()
    other = keys(registry, "com.someoneelse")["read"]
    assert registry.client(other).get(path).status_code == 404
    assert registry.admin.get(path).status_code == 200


def test_read_keys_read_and_write_keys_write_their_prefix_and_sub_vendors(
    registry: RegistryServer, vendor: str
) -> None:
    generated = keys(registry, vendor)
    reader, writer = registry.client(generated["read"]), registry.client(generated["write"])
    assert put(reader, vendor).status_code == 403
    assert put(writer, vendor).status_code == 201
    assert put(writer, f"{vendor}.marketing").status_code == 201
    assert put(writer, f"{vendor}co").status_code == 403
    assert put(writer, "com.elsewhere").status_code == 403
    assert writer.get(f"/api/schemas/{vendor}/event/jsonschema/1-0-0").status_code == 200


def test_a_star_key_covers_every_vendor(registry: RegistryServer, vendor: str) -> None:
    writer = registry.client(keys(registry, "*")["write"])
    assert put(writer, vendor).status_code == 201
    assert put(writer, f"org.{vendor}").status_code == 201


def test_only_the_super_key_makes_and_deletes_keys(registry: RegistryServer, vendor: str) -> None:
    generated = keys(registry, vendor)
    for caller in (registry.client(), registry.client(generated["write"])):
        assert caller.post("/api/auth/keygen", json={"vendorPrefix": vendor}).status_code == 403
        assert (
            caller.delete("/api/auth/keygen", params={"key": generated["read"]}).status_code == 403
        )
    writer = registry.client(generated["write"])
    assert put(writer, vendor).status_code == 201
    deleted = registry.admin.delete("/api/auth/keygen", params={"key": generated["write"]})
    assert deleted.status_code == 200
    assert put(writer, vendor, "1-0-1").status_code == 403
    assert (
        registry.admin.delete("/api/auth/keygen", params={"key": generated["write"]}).status_code
        == 404
    )
    assert registry.admin.delete("/api/auth/keygen", params={"key": "nope"}).status_code == 400
    assert registry.admin.delete("/api/auth/keygen").status_code == 400


@pytest.mark.parametrize(
    "body", [{"vendorPrefix": "com..acme"}, {"vendorPrefix": "com.acme."}, {"vendorPrefix": 7}, {}]
)
def test_keygen_refuses_invalid_prefixes(registry: RegistryServer, body: dict[str, Any]) -> None:
    assert registry.admin.post("/api/auth/keygen", json=body).status_code == 400


def test_a_malformed_key_is_400_and_an_unknown_one_grants_nothing(
    registry: RegistryServer, vendor: str
) -> None:
    assert registry.client("not-a-uuid").get("/api/schemas").status_code == 400
    unknown = registry.client("6f1c1c9e-0000-4000-8000-000000000000")
    assert unknown.get("/api/schemas").status_code == 200
    assert put(unknown, vendor).status_code == 403


# -- validation endpoints -------------------------------------------------------------------------


def test_schema_validation_endpoint(registry: RegistryServer, vendor: str) -> None:
    endpoint = "/api/validation/validate/schema/jsonschema"
    valid = registry.client().post(endpoint, json=schema(vendor))
    assert valid.status_code == 200
    # The schema has no description: warnings, which leave it valid.
    assert {p["level"] for p in valid.json()["report"]} == {"warning"}
    invalid = registry.client().post(endpoint, json={"type": "object"})
    assert invalid.status_code == 400
    report = invalid.json()["report"]
    assert {p["pointer"] for p in report if p["level"] == "error"} == {"/$schema", "/self"}


def test_instance_validation_endpoint(registry: RegistryServer, vendor: str) -> None:
    put(registry.admin, vendor, required=["id"])
    endpoint = "/api/validation/validate/instance"
    uri = f"iglu:{vendor}/event/jsonschema/1-0-0"
    client = registry.client()
    assert client.post(endpoint, json={"schema": uri, "data": {"id": "x"}}).status_code == 200
    invalid = client.post(endpoint, json={"schema": uri, "data": {"id": 3}})
    assert invalid.status_code == 400
    assert invalid.json()["report"] == [
        {"pointer": "/id", "message": "3 is not of type 'string'", "level": "error"}
    ]
    missing = client.post(endpoint, json={"schema": uri.replace("1-0-0", "1-0-9"), "data": {}})
    assert missing.status_code == 404
    assert client.post(endpoint, json={"schema": "not iglu", "data": {}}).status_code == 400
    assert client.post(endpoint, json={"data": {}}).status_code == 400


# -- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"", b"\xff\xfe", b"[1, 2", b"NaN"],
    ids=["broken", "empty", "binary", "cut", "nan"],
)
def test_non_json_bodies_are_400(registry: RegistryServer, vendor: str, body: bytes) -> None:
    for path in (
        f"/api/schemas/{vendor}/event/jsonschema/1-0-0",
        "/api/validation/validate/schema/jsonschema",
    ):
        method = "PUT" if path.startswith("/api/schemas") else "POST"
        answer = registry.admin.request(method, path, content=body)
        assert answer.status_code == 400
        assert "message" in answer.json()


def test_oversized_bodies_are_413(registry: RegistryServer, vendor: str) -> None:
    huge = schema(vendor, description="x" * MAX_BODY_BYTES)
    answer = registry.admin.put(f"/api/schemas/{vendor}/event/jsonschema/1-0-0", json=huge)
    assert answer.status_code == 413

    def chunks() -> Any:
        # No Content-Length: the limit must hold while streaming too.
        for _ in range(MAX_BODY_BYTES // 1024 + 2):
            yield b" " * 1024

    streamed = registry.admin.post("/api/validation/validate/schema/jsonschema", content=chunks())
    assert streamed.status_code == 413


@pytest.mark.parametrize(
    "path",
    [
        "/api/schemas/com.acme$/event/jsonschema/1-0-0",
        "/api/schemas/com.acme/ev ent/jsonschema/1-0-0",
        "/api/schemas/com.acme/event/jsonschema/1-0",
        "/api/schemas/com.acme/event/jsonschema/01-0-0",
        "/api/schemas/com.acme/event/jsonschema/0-0-0",
        "/api/schemas/com.acme/event/jsonschema/1-0-99999999999",
        "/api/schemas/com.acme'%20OR%20'1'='1/event/jsonschema/1-0-0",
        "/api/schemas/com.acme;DROP%20TABLE%20iglu_schemas;--/event/jsonschema/1-0-0",
        "/api/schemas/%00/event",
        "/api/schemas/" + "a" * 300,
    ],
)
def test_odd_names_and_sql_metacharacters_are_400(registry: RegistryServer, path: str) -> None:
    assert registry.client().get(path).status_code == 400
    if path.count("/") == 6:
        assert registry.admin.put(path, json={"type": "object"}).status_code == 400
    assert registry.client().get("/api/meta/health/db").text == "OK"


def test_sql_metacharacters_in_bodies_are_stored_as_text(
    registry: RegistryServer, vendor: str
) -> None:
    sneaky = "'); DROP TABLE iglu_schemas; --"
    assert put(registry.admin, vendor, description=sneaky).status_code == 201
    stored = registry.client().get(f"/api/schemas/{vendor}/event/jsonschema/1-0-0").json()
    assert stored["description"] == sneaky


def test_unknown_routes_and_methods_answer_json(registry: RegistryServer) -> None:
    assert registry.client().get("/api/nothing").status_code == 404
    wrong = registry.client().patch("/api/schemas")
    assert wrong.status_code == 405
    assert "message" in wrong.json()


def test_of_racing_writers_of_one_version_exactly_one_wins(
    registry: RegistryServer, vendor: str
) -> None:
    def attempt(index: int) -> int:
        with registry.admin as client:
            return put(client, vendor, description=f"writer {index}").status_code

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(attempt, range(8)))
    assert statuses == [201] + [409] * 7


def test_a_cached_miss_is_forgotten_when_the_schema_is_published(
    registry: RegistryServer, vendor: str
) -> None:
    path = f"/api/schemas/{vendor}/event/jsonschema/1-0-0"
    assert registry.client().get(path).status_code == 404
    assert registry.client().get(path).status_code == 404
    put(registry.admin, vendor)
    assert registry.client().get(path).status_code == 200


# -- change feed ----------------------------------------------------------------------------------


def changes_after(client: httpx.Client, cursor: int) -> tuple[int, list[str] | None]:
    answer = client.get("/api/meta/changes", params={"after": cursor})
    assert answer.status_code == 200, answer.text
    feed = answer.json()
    return feed["cursor"], feed["changes"]


def test_the_change_feed_lists_publications_patches_and_deletions_to_readers(
    patched_registry: RegistryServer, vendor: str
) -> None:
    anonymous, admin = patched_registry.client(), patched_registry.admin
    joined = anonymous.get("/api/meta/changes").json()
    assert joined["changes"] == []
    uri = f"iglu:{vendor}/event/jsonschema/1-0-0"
    assert put(admin, vendor).status_code == 201
    cursor, listed = changes_after(anonymous, joined["cursor"])
    assert listed == [uri]
    assert put(admin, vendor, description="patched").status_code == 200
    assert admin.delete(f"/api/schemas/{vendor}/event/jsonschema/1-0-0").status_code == 200
    assert changes_after(anonymous, cursor) == (cursor + 2, [uri, uri])
    # A private schema is listed only to a caller who may read it.
    private = f"{vendor}.private"
    assert put(admin, private, public=False).status_code == 201
    assert changes_after(anonymous, cursor + 2) == (cursor + 3, [])
    assert changes_after(admin, cursor + 2)[1] == [f"iglu:{private}/event/jsonschema/1-0-0"]


def test_the_change_feed_names_a_superseded_version_too(
    registry: RegistryServer, vendor: str
) -> None:
    cursor = registry.client().get("/api/meta/changes").json()["cursor"]
    assert put(registry.admin, vendor).status_code == 201
    assert put(registry.admin, vendor, "1-0-1", **{"$supersedes": ["1-0-0"]}).status_code == 201
    _, listed = changes_after(registry.client(), cursor)
    assert listed == [
        f"iglu:{vendor}/event/jsonschema/1-0-0",
        f"iglu:{vendor}/event/jsonschema/1-0-1",
        f"iglu:{vendor}/event/jsonschema/1-0-0",
    ]


@pytest.mark.parametrize("after", ["x", "-1", "1.5"])
def test_a_cursor_that_is_not_a_number_is_400(registry: RegistryServer, after: str) -> None:
    answer = registry.client().get("/api/meta/changes", params={"after": after})
    assert answer.status_code == 400, answer.text


def test_a_cursor_from_another_database_makes_the_feed_say_forget_everything(
    registry: RegistryServer,
) -> None:
    assert changes_after(registry.client(), 10**12)[1] is None
