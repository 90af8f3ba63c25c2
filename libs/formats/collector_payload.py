"""The Thrift `CollectorPayload` 1-0-0: one HTTP request as the collector stored it.

Encoded with the Thrift binary protocol and the public field ids, so the raw topic can be read by
any Snowplow-compatible enricher and Furrow's enricher can read raw topics of other collectors.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import thriftpy2
from thriftpy2.protocol import TCyBinaryProtocolFactory
from thriftpy2.protocol.binary import TBinaryProtocol
from thriftpy2.thrift import TException
from thriftpy2.transport.memory import TMemoryBuffer
from thriftpy2.utils import serialize

SCHEMA = "iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0"
ENCODING = "UTF-8"

_thrift = thriftpy2.load(
    str(Path(__file__).with_name("collector_payload.thrift")),
    module_name="collector_payload_thrift",
)
_WRITER = TCyBinaryProtocolFactory()


class CollectorPayloadError(ValueError):
    """The bytes are not a CollectorPayload 1-0-0."""


@dataclass(frozen=True, slots=True)
class CollectorPayload:
    ip_address: str
    timestamp_ms: int
    collector: str
    path: str
    querystring: str | None = None
    body: bytes | None = None
    headers: tuple[str, ...] = ()
    content_type: str | None = None
    user_agent: str | None = None
    referer_uri: str | None = None
    hostname: str | None = None
    network_user_id: str | None = None
    encoding: str = ENCODING
    schema: str = SCHEMA


def encode(payload: CollectorPayload) -> bytes:
    """The Thrift binary encoding of `payload`."""
    return bytes(
        serialize(
            _thrift.CollectorPayload(
                schema=payload.schema,
                ipAddress=payload.ip_address,
                timestamp=payload.timestamp_ms,
                encoding=payload.encoding,
                collector=payload.collector,
                userAgent=payload.user_agent,
                refererUri=payload.referer_uri,
                path=payload.path,
                querystring=payload.querystring,
                body=payload.body,
                headers=list(payload.headers),
                contentType=payload.content_type,
                hostname=payload.hostname,
                networkUserId=payload.network_user_id,
            ),
            _WRITER,
        )
    )


def decode(raw: bytes) -> CollectorPayload:
    """The payload encoded in `raw`; CollectorPayloadError if it is not a CollectorPayload 1-0-0."""
    # The pure-Python reader, not thriftpy2's Cython one: on truncated input the Cython reader
    # returns bytes from beyond the end of the buffer, and raw records are untrusted input.
    # Strings stay bytes: a body need not be UTF-8, and judging it is the enricher's job.
    fields = _thrift.CollectorPayload()
    try:
        fields.read(TBinaryProtocol(TMemoryBuffer(raw), decode_response=False))
    except (TException, EOFError, ValueError, TypeError, OverflowError, struct.error) as error:
        raise CollectorPayloadError(f"not Thrift binary: {error}") from error
    schema = _text(fields.schema)
    if schema != SCHEMA:
        raise CollectorPayloadError(f"schema is {schema!r}, expected {SCHEMA}")
    if fields.timestamp is None or fields.ipAddress is None or fields.collector is None:
        raise CollectorPayloadError("a required field (ipAddress, timestamp, collector) is missing")
    return CollectorPayload(
        schema=schema,
        ip_address=_text(fields.ipAddress),
        timestamp_ms=fields.timestamp,
        encoding=_text(fields.encoding) or ENCODING,
        collector=_text(fields.collector),
        user_agent=_optional_text(fields.userAgent),
        referer_uri=_optional_text(fields.refererUri),
        path=_text(fields.path),
        querystring=_optional_text(fields.querystring),
        body=fields.body,
        headers=tuple(_text(header) for header in fields.headers or ()),
        content_type=_optional_text(fields.contentType),
        hostname=_optional_text(fields.hostname),
        network_user_id=_optional_text(fields.networkUserId),
    )


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _optional_text(value: Any) -> str | None:
    return None if value is None else _text(value)
