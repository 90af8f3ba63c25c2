"""The one way Furrow makes an Elasticsearch client: from `[elasticsearch]`, logged in as it
says; and the failures of the first requests told in terms of those settings."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from elastic_transport import TlsError
from elasticsearch import ApiError, AsyncElasticsearch, TransportError

from libs.config import ElasticsearchSettings
from libs.tls import speaks_tls


def elasticsearch_client(settings: ElasticsearchSettings, **options: Any) -> AsyncElasticsearch:
    """A client of the cluster `settings` name; `options` are the client's own (timeouts,
    retries, serializer). Secret files are read now."""
    where: dict[str, Any] = (
        {"cloud_id": settings.cloud_id} if settings.cloud_id else {"hosts": settings.urls()}
    )
    if settings.ca_file is not None:
        where["ca_certs"] = str(settings.ca_file)
    return AsyncElasticsearch(
        **where, **credentials(settings), verify_certs=settings.verify_certs, **options
    )


def credentials(settings: ElasticsearchSettings) -> dict[str, Any]:
    """The client's auth options (`api_key` or `basic_auth`), secret files read now; for
    `AsyncElasticsearch.options()` after a rotation as well."""
    api_key = settings.api_key_value()
    if api_key is not None:
        key_id, colon, key = api_key.partition(":")
        return {"api_key": (key_id, key) if colon else api_key}
    if settings.username is not None:
        return {"basic_auth": (settings.username, settings.password_value())}
    return {}


def setup_problem(settings: ElasticsearchSettings, error: TransportError | ApiError) -> str | None:
    """What a failed request says about the settings; None when it says nothing of them (the
    cluster may only be down or busy, and come back)."""
    where = settings.cloud_id or settings.url
    if isinstance(error, ApiError) and error.meta.status == 401:
        return f"Elasticsearch at {where} refused the credentials: {_credentials_named(settings)}"
    if isinstance(error, ApiError) and error.meta.status == 403:
        return (
            f"Elasticsearch at {where} refused a request for want of privileges "
            f"({_reason(error)}): give {_who(settings)} those 'Production clusters' in "
            "docs/operating.md lists"
        )
    if isinstance(error, TlsError):
        if "CERTIFICATE_VERIFY_FAILED" in f"{error.message} {error.errors}":
            trusted = settings.ca_file or "any of the system's CA certificates"
            return (
                f"the certificate of Elasticsearch at {where} is not signed by {trusted}: set "
                "[elasticsearch] ca_file (FURROW_ELASTICSEARCH_CA_FILE) to the CA that signed it"
            )
        return (
            f"Elasticsearch at {where} does not speak TLS: check the https:// of [elasticsearch] "
            "url and its port"
        )
    plain = [url for url in settings.urls() if url.startswith("http://")]
    if not settings.cloud_id and any(speaks_tls(*_address(url)) for url in plain):
        return (
            f"Elasticsearch at {where} speaks TLS: write [elasticsearch] url "
            "(FURROW_ELASTICSEARCH_URL) with https://"
        )
    return None


def _credentials_named(settings: ElasticsearchSettings) -> str:
    if settings.api_key is not None or settings.api_key_file is not None:
        return "check [elasticsearch] api_key or api_key_file"
    if settings.username is not None:
        return f"check [elasticsearch] password or password_file of username {settings.username!r}"
    return "the cluster wants [elasticsearch] api_key, or username and password"


def _who(settings: ElasticsearchSettings) -> str:
    if settings.username is not None:
        return f"the user {settings.username!r}"
    return "the API key"


def _reason(error: ApiError) -> str:
    body = error.body
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("reason", error.message))
    return str(error.message)


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80
