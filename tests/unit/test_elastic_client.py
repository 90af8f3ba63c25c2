"""`[elasticsearch]` as an Elasticsearch client, and its failures at start told as settings."""

from pathlib import Path
from typing import Any

import pytest
from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig, TlsError
from elasticsearch import ApiError, AuthenticationException, AuthorizationException

from libs.config import ElasticsearchSettings
from libs.elastic import credentials, elasticsearch_client, setup_problem


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, {}),
        ({"api_key": "aWQ6a2V5"}, {"api_key": "aWQ6a2V5"}),
        ({"api_key": "id:key"}, {"api_key": ("id", "key")}),
        ({"username": "furrow", "password": "pw"}, {"basic_auth": ("furrow", "pw")}),
    ],
)
def test_credentials(values: dict[str, Any], expected: dict[str, Any]) -> None:
    assert credentials(ElasticsearchSettings(**values)) == expected


def test_a_rotated_api_key_file_is_read_again(tmp_path: Path) -> None:
    key_file = tmp_path / "api-key"
    key_file.write_text("id:first\n")
    settings = ElasticsearchSettings(api_key_file=key_file)
    assert credentials(settings) == {"api_key": ("id", "first")}
    key_file.write_text("id:second\n")
    assert credentials(settings) == {"api_key": ("id", "second")}


async def test_several_urls_make_several_nodes() -> None:
    settings = ElasticsearchSettings(url="https://a:9200, https://b:9201")
    client = elasticsearch_client(settings)
    try:
        nodes = sorted(f"{node.scheme}://{node.host}:{node.port}" for node in _nodes(client))
        assert nodes == ["https://a:9200", "https://b:9201"]
    finally:
        await client.close()


async def test_cloud_id_names_the_deployment() -> None:
    # "name:base64(domain$es-uuid$kibana-uuid)", as Elastic Cloud shows it.
    cloud_id = "furrow:ZXUtd2VzdC0xLmF3cy5mb3VuZC5pbyRlcyRraWJhbmE="
    client = elasticsearch_client(ElasticsearchSettings(cloud_id=cloud_id, api_key="id:key"))
    try:
        (node,) = _nodes(client)
        assert (node.scheme, node.host, node.port) == ("https", "es.eu-west-1.aws.found.io", 443)
    finally:
        await client.close()


def _nodes(client: Any) -> list[NodeConfig]:
    return [node.config for node in client.transport.node_pool.all()]


def _api_error(kind: type[ApiError], status: int, body: Any) -> ApiError:
    meta = ApiResponseMeta(status, "1.1", HttpHeaders(), 0.1, NodeConfig("https", "e", 9200))
    return kind("refused", meta, body)


API_KEY = ElasticsearchSettings(url="https://e:9200", api_key="id:s3cret")
USER = ElasticsearchSettings(url="https://e:9200", username="furrow", password="s3cret")


@pytest.mark.parametrize(
    ("settings", "error", "named"),
    [
        (
            API_KEY,
            _api_error(AuthenticationException, 401, {"error": {"reason": "bad key"}}),
            "refused the credentials: check [elasticsearch] api_key or api_key_file",
        ),
        (
            USER,
            _api_error(AuthenticationException, 401, "unable to authenticate"),
            "check [elasticsearch] password or password_file of username 'furrow'",
        ),
        (
            USER,
            _api_error(
                AuthorizationException,
                403,
                {"error": {"reason": "action [indices:admin/index_template/put] is unauthorized"}},
            ),
            "(action [indices:admin/index_template/put] is unauthorized): give the user 'furrow'",
        ),
        (
            API_KEY,
            TlsError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"),
            "set [elasticsearch] ca_file (FURROW_ELASTICSEARCH_CA_FILE)",
        ),
        (
            API_KEY,
            TlsError("[SSL: WRONG_VERSION_NUMBER] wrong version number"),
            "does not speak TLS: check the https:// of [elasticsearch] url",
        ),
        (API_KEY, _api_error(ApiError, 503, {"error": "unavailable"}), None),
    ],
)
def test_failures_name_the_setting(
    settings: ElasticsearchSettings, error: Exception, named: str | None
) -> None:
    assert isinstance(error, ApiError | TlsError)
    problem = setup_problem(settings, error)
    if named is None:
        assert problem is None
    else:
        assert problem is not None and named in problem
        assert "s3cret" not in problem
