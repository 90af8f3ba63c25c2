"""Debian's nginx in front of the local Elasticsearch, as an Elasticsearch with security on looks
to its clients: TLS with a certificate of a CA of its own, and every request refused with 401
unless it carries the user's password (basic auth) or the API key.

The node devstack runs has security off, and no distribution with security can be fetched here;
behind this proxy the clients' side of it (CA verification, the auth headers) runs for real.
Its port comes from FURROW_ES_TLS_PORT; config, credentials, certificates and logs live in
`run_dir()/elasticsearch-tls`.
"""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import signal
import socket
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from devstack import elasticsearch
from devstack.process import (
    StackError,
    apt_install,
    read_pid,
    run_dir,
    start_background,
    stop_process,
    wait_until,
)
from devstack.tls import certificates

NAME = "elasticsearch-tls"
USERNAME = "furrow"
_HOST = "127.0.0.1"
_START_TIMEOUT = 20.0

# `$` and braces are nginx's own; the placeholders are @NAME@.
_NGINX_CONF = """\
# Written by devstack/elasticsearch_tls.py on every start; edits here are lost.
daemon off;
worker_processes 1;
pid @HOME@/nginx.pid;
error_log @HOME@/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path @HOME@/temp/body;
    proxy_temp_path @HOME@/temp/proxy;
    fastcgi_temp_path @HOME@/temp/fastcgi;
    uwsgi_temp_path @HOME@/temp/uwsgi;
    scgi_temp_path @HOME@/temp/scgi;
    client_max_body_size 0;
    map_hash_bucket_size 256;
    map $http_authorization $furrow_authorized {
        default 0;
        "Basic @BASIC@" 1;
        "ApiKey @API_KEY@" 1;
    }
    server {
        listen @HOST@:@PORT@ ssl;
        ssl_certificate @CERT@;
        ssl_certificate_key @KEY@;
        default_type application/json;
        location / {
            if ($furrow_authorized = 0) {
                add_header WWW-Authenticate 'Basic realm="security", ApiKey' always;
                return 401 '{"error":{"type":"security_exception"},"status":401}';
            }
            proxy_pass @ELASTICSEARCH@;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Authorization "";
            proxy_buffering off;
            proxy_request_buffering off;
        }
    }
}
"""


@dataclass(frozen=True)
class SecuredElasticsearch:
    """How a client reaches the proxy: `url`, trusting `ca_file`, as `username` with the password
    in `password_file` or with the API key ("id:key") in `api_key_file`."""

    url: str
    username: str
    password_file: Path
    api_key_file: Path
    ca_file: Path


def secured() -> SecuredElasticsearch:
    home = run_dir() / NAME
    return SecuredElasticsearch(
        f"https://{_HOST}:{_port()}",
        USERNAME,
        home / "password",
        home / "api-key",
        certificates(home / "tls").ca_file,
    )


def start() -> bool:
    """Start the proxy in front of `elasticsearch.address()` unless it runs; True if started.
    Installs nginx with apt-get when it is missing."""
    if _answers():
        return False
    home = run_dir() / NAME
    if read_pid(NAME) is None:
        nginx = shutil.which("nginx") or shutil.which("/usr/sbin/nginx")
        if nginx is None:
            apt_install("nginx")
            nginx = "/usr/sbin/nginx"
        _write_config(home)
        config = ["-p", str(home), "-c", str(home / "nginx.conf"), "-e", str(home / "error.log")]
        start_background(NAME, [nginx, *config])
    wait_until(
        _answers,
        what=f"nginx at {_HOST}:{_port()}",
        timeout=_START_TIMEOUT,
        log=home / "error.log",
        pid_name=NAME,
    )
    return True


def stop() -> bool:
    return stop_process(NAME)


def rotate_api_key() -> str:
    """Replace the API key the running proxy takes by a new one, as an operator rotating it
    would; the old one is refused from now on. Returns the new key ("id:key")."""
    pid = read_pid(NAME)
    if pid is None:
        raise StackError("nginx before Elasticsearch is not running")
    access = secured()
    new_key = _new_api_key()
    access.api_key_file.write_text(new_key + "\n")
    _write_config(run_dir() / NAME)
    os.kill(pid, signal.SIGHUP)
    # nginx answers with the old configuration until its new workers have started.
    old_refused = time.monotonic() + _START_TIMEOUT
    while not _api_key_accepted(new_key):
        if time.monotonic() > old_refused:
            raise StackError("nginx did not take its new configuration")
        time.sleep(0.1)
    return new_key


def _write_config(home: Path) -> None:
    access = secured()
    for secret_file, secret in (
        (access.password_file, secrets.token_urlsafe(18)),
        (access.api_key_file, _new_api_key()),
    ):
        if not secret_file.is_file():
            home.mkdir(parents=True, exist_ok=True)
            secret_file.write_text(secret + "\n")
            secret_file.chmod(0o600)
    password = access.password_file.read_text().strip()
    api_key = access.api_key_file.read_text().strip()
    (home / "temp").mkdir(parents=True, exist_ok=True)
    tls = certificates(home / "tls")
    values = {
        "HOME": str(home),
        "HOST": _HOST,
        "PORT": str(_port()),
        "CERT": str(tls.cert_file),
        "KEY": str(tls.key_file),
        "BASIC": _encoded(f"{USERNAME}:{password}"),
        "API_KEY": _encoded(api_key),
        "ELASTICSEARCH": elasticsearch.address(),
    }
    config = _NGINX_CONF
    for name, value in values.items():
        config = config.replace(f"@{name}@", value)
    (home / "nginx.conf").write_text(config)


def _new_api_key() -> str:
    return f"{secrets.token_hex(8)}:{secrets.token_urlsafe(18)}"


def _api_key_accepted(api_key: str) -> bool:
    context = ssl.create_default_context(cafile=str(secured().ca_file))
    request = urllib.request.Request(
        f"{secured().url}/", headers={"Authorization": f"ApiKey {_encoded(api_key)}"}
    )
    try:
        with urllib.request.urlopen(request, context=context, timeout=5):
            return True
    except urllib.error.HTTPError as answer:
        return answer.code != 401


def _encoded(credentials: str) -> str:
    return base64.b64encode(credentials.encode()).decode()


def _answers() -> bool:
    try:
        with socket.create_connection((_HOST, _port()), timeout=1.0):
            return True
    except OSError:
        return False


def _port() -> int:
    port = os.environ.get("FURROW_ES_TLS_PORT")
    if not port:
        raise StackError("FURROW_ES_TLS_PORT names the port of the TLS proxy to Elasticsearch")
    return int(port)
