"""A certificate authority and a server certificate for 127.0.0.1 signed by it, made with the
`openssl` command, for the secured listeners the tests connect to; and client certificates
signed by the same CA, for a listener that wants one (mutual TLS)."""

from __future__ import annotations

from collections.abc import Sequence
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
    directory.mkdir(parents=True, exist_ok=True)
    extensions = directory / "server.ext"
    extensions.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _openssl(
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", _DAYS],
        ["-keyout", _key_of(made.ca_file), "-out", made.ca_file],
        ["-subj", "/CN=Furrow test CA " + directory.name],
    )
    _signed(made.ca_file, "localhost", made.key_file, made.cert_file, ["-extfile", extensions])
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
    _signed(authority.ca_file, name, made.key_file, made.cert_file)
    return made


def _signed(
    ca_file: Path,
    common_name: str,
    key_file: Path,
    cert_file: Path,
    extra: Sequence[str | Path] = (),
) -> None:
    """A new key in `key_file` and a certificate for CN=`common_name` in `cert_file`, signed by
    the CA of `ca_file`; `extra`: more arguments for the signing (extensions)."""
    request = cert_file.with_suffix(".csr")
    _openssl(
        ["req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={common_name}"],
        ["-keyout", key_file, "-out", request],
    )
    _openssl(
        ["x509", "-req", "-in", request, "-CA", ca_file, "-CAkey", _key_of(ca_file)],
        ["-CAcreateserial", "-days", _DAYS, *extra, "-out", cert_file],
    )


def _key_of(ca_file: Path) -> Path:
    """Where the CA's private key is kept, beside its certificate."""
    return ca_file.with_suffix(".key")


def _openssl(*arguments: Sequence[str | Path]) -> None:
    """Run `openssl` with `arguments`, given in groups that each fit a line."""
    openssl = require_command("openssl", _OPENSSL_HINT)
    argv = [openssl, *(str(part) for group in arguments for part in group)]
    run_tool(argv, failure="openssl could not make a certificate")
