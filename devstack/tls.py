"""A certificate authority and a server certificate for 127.0.0.1 signed by it, made with the
`openssl` command, for the secured listeners the tests connect to; and client certificates
signed by the same CA, for a listener that wants one (mutual TLS)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from devstack.process import require_command, run_tool

_OPENSSL_HINT = "apt-get install openssl"
_DAYS = "30"


@dataclass(frozen=True)
class Certificates:
    ca_file: Path
    # The server's certificate and its unencrypted PKCS#8 key, apart and in one file (as Kafka's
    # PEM keystore wants them).
    cert_file: Path
    key_file: Path
    key_and_cert_file: Path


def certificates(directory: Path) -> Certificates:
    """The CA and server certificate in `directory`, made on the first call."""
    made = Certificates(
        directory / "ca.pem",
        directory / "server.pem",
        directory / "server.key",
        directory / "server-key-and-cert.pem",
    )
    if made.key_and_cert_file.is_file():
        return made
    openssl = require_command("openssl", _OPENSSL_HINT)
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = directory / "ca.key"
    request = directory / "server.csr"
    extensions = directory / "server.ext"
    extensions.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for argv, what in (
        (
            [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", _DAYS],
            [
                "-keyout",
                ca_key,
                "-out",
                made.ca_file,
                "-subj",
                "/CN=Furrow test CA " + directory.name,
            ],
        ),
        (
            [openssl, "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost"],
            ["-keyout", made.key_file, "-out", request],
        ),
        (
            [openssl, "x509", "-req", "-in", request, "-CA", made.ca_file, "-CAkey", ca_key],
            ["-CAcreateserial", "-days", _DAYS, "-extfile", extensions, "-out", made.cert_file],
        ),
    ):
        run_tool(
            [str(part) for part in (*argv, *what)], failure="openssl could not make a certificate"
        )
    made.key_and_cert_file.write_text(made.key_file.read_text() + made.cert_file.read_text())
    return made


@dataclass(frozen=True)
class ClientCertificate:
    cert_file: Path
    key_file: Path
    # What Kafka names its holder: `User:` and the certificate's distinguished name.
    principal: str


def client_certificate(directory: Path, name: str) -> ClientCertificate:
    """A certificate for CN=`name` signed by the CA in `directory` (made by `certificates`),
    made on the first call."""
    authority = certificates(directory)
    made = ClientCertificate(
        directory / f"client-{name}.pem", directory / f"client-{name}.key", f"User:CN={name}"
    )
    if made.cert_file.is_file():
        return made
    openssl = require_command("openssl", _OPENSSL_HINT)
    request = directory / f"client-{name}.csr"
    ca_key = directory / "ca.key"
    for argv, what in (
        (
            [openssl, "req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}"],
            ["-keyout", made.key_file, "-out", request],
        ),
        (
            [openssl, "x509", "-req", "-in", request, "-CA", authority.ca_file, "-CAkey", ca_key],
            ["-CAcreateserial", "-days", _DAYS, "-out", made.cert_file],
        ),
    ):
        run_tool(
            [str(part) for part in (*argv, *what)], failure="openssl could not make a certificate"
        )
    return made
