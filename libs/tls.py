"""What a port speaks, for telling a client set up without TLS what it connected to."""

from __future__ import annotations

import socket
import ssl


def speaks_tls(host: str, port: int) -> bool:
    """True if a TLS handshake succeeds at `host:port`, whoever answers: a listener a client
    without TLS cannot talk to. False when nothing listens or it speaks something else."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with (
            socket.create_connection((host, port), timeout=2.0) as connection,
            context.wrap_socket(connection, server_hostname=host),
        ):
            return True
    except (OSError, ValueError):
        return False
