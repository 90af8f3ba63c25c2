"""Where archive files go: a local directory or an S3 bucket. Both write a file's records to a
temporary file first, and make it visible under its final name only once it is complete and
durable (renamed after fsync; an upload that completed), so a reader never takes a partial file
for a whole one."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from libs.config import SetupError
from services.archive.config import ArchiveConfig
from services.archive.layout import FileKey, expired_hours, hour_in, leftovers

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

logger = logging.getLogger(__name__)

PARTIAL_SUFFIX = ".partial"


class ArchiveSetupError(SetupError):
    """The target cannot be written to; the message names the setting at fault."""


class PublishError(RuntimeError):
    """A file could not be made durable; it is tried again."""


class PendingFile:
    """A file's records, gzip-compressed into a temporary file as they come."""

    def __init__(self, raw: IO[bytes], compress_level: int) -> None:
        self.raw = raw
        # mtime 0: the same records make the same bytes, whenever written.
        self._gzip = gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=compress_level, mtime=0)
        self.size_bytes = 0
        self.compressed_bytes = 0

    def write(self, line: bytes) -> None:
        self._gzip.write(line)
        self.size_bytes += len(line)

    def finish(self) -> None:
        """Close the gzip stream and flush it to disk."""
        if not self._gzip.closed:
            self._gzip.close()
        self.raw.flush()
        os.fsync(self.raw.fileno())
        self.compressed_bytes = self.raw.tell()


class ArchiveTarget(Protocol):
    def describe(self) -> str:
        """Where files go, for logs (never a credential)."""
        ...

    async def check(self) -> None:
        """Raise ArchiveSetupError unless files can be written."""
        ...

    def new_file(self, path: str) -> PendingFile:
        """A pending file to be published at `path`."""
        ...

    async def publish(self, pending: PendingFile, path: str, key: FileKey, last: int) -> None:
        """Make `pending` durable at `path`, then delete the leftovers it replaces (see
        `layout.leftovers`); raise PublishError if that fails (it may be tried again)."""
        ...


class LocalDirectory:
    def __init__(self, root: Path, *, compress_level: int = 6) -> None:
        self._root = root
        self._compress_level = compress_level

    def describe(self) -> str:
        return str(self._root)

    async def check(self) -> None:
        await asyncio.to_thread(self._check)

    def _check(self) -> None:
        try:
            self._root.mkdir(parents=True, exist_ok=True)
            probe = self._root / f".furrow-probe-{uuid.uuid4().hex}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as error:
            reason = error.strerror or type(error).__name__
            raise ArchiveSetupError(f"directory {self._root} cannot be written: {reason}") from None
        # Files a crash left half-written; their records are written again.
        for partial in self._partial_files():
            partial.unlink(missing_ok=True)

    def _partial_files(self) -> Iterator[Path]:
        for directory, _, names in os.walk(self._root):
            for name in names:
                if name.startswith(".") and name.endswith(PARTIAL_SUFFIX):
                    yield Path(directory, name)

    def new_file(self, path: str) -> PendingFile:
        final = self._root / path
        final.parent.mkdir(parents=True, exist_ok=True)
        # Hidden and suffixed: no reader globbing *.gz takes it for an archive file.
        temporary = final.with_name(f".{final.name}.{uuid.uuid4().hex}{PARTIAL_SUFFIX}")
        return PendingFile(temporary.open("wb"), self._compress_level)

    async def publish(self, pending: PendingFile, path: str, key: FileKey, last: int) -> None:
        try:
            await asyncio.to_thread(self._publish, pending, self._root / path, key, last)
        except OSError as error:
            raise PublishError(f"{path}: {error.strerror or error!r}") from error

    def _publish(self, pending: PendingFile, final: Path, key: FileKey, last: int) -> None:
        # Closed once in place: a retry after that has only the leftovers to delete.
        if not pending.raw.closed:
            pending.finish()
            os.replace(pending.raw.name, final)
            _fsync_directory(final.parent)
            pending.raw.close()
        for name in leftovers(os.listdir(final.parent), key, last):
            (final.parent / name).unlink(missing_ok=True)
        _fsync_directory(final.parent)

    async def delete_expired(self, now: datetime, retention: timedelta) -> int:
        """Delete the hour directories whose records are all older than `retention`; return
        how many."""
        return await asyncio.to_thread(self._delete_expired, now, retention)

    def _delete_expired(self, now: datetime, retention: timedelta) -> int:
        deleted = 0
        for topic in _subdirectories(self._root):
            for date in _subdirectories(topic):
                if not date.name.startswith("date="):
                    continue
                hours = {
                    hour: directory
                    for directory in _subdirectories(date)
                    if (hour := hour_in((date.name, directory.name))) is not None
                }
                for hour in expired_hours(hours, now, retention):
                    shutil.rmtree(hours[hour], ignore_errors=True)
                    deleted += 1
                with contextlib.suppress(OSError):
                    # Only once empty: the date's last hour is gone.
                    date.rmdir()
        return deleted


def _subdirectories(directory: Path) -> list[Path]:
    try:
        return [entry for entry in directory.iterdir() if entry.is_dir()]
    except OSError:
        return []


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class S3Bucket:
    """Any S3-compatible store; boto3 does the talking (multipart uploads for large files, its
    own retries of throttling and connection errors)."""

    def __init__(self, config: ArchiveConfig) -> None:
        assert config.bucket is not None
        self._bucket = config.bucket
        self._compress_level = config.compress_level
        self._endpoint = config.endpoint_url
        self._client: S3Client = boto3.client(
            "s3",
            endpoint_url=config.endpoint_url,
            region_name=config.region,
            aws_access_key_id=config.access_key_id,
            aws_secret_access_key=config.secret_access_key_value(),
            config=BotoConfig(
                retries={"mode": "standard"},
                # Servers other than AWS (s3proxy, MinIO) rarely have a DNS name per bucket.
                s3={"addressing_style": "path" if config.endpoint_url else "auto"},
                # Checksums only where S3 asks for them: other stores (s3proxy) refuse the
                # trailing checksums boto3 sends by default with NotImplemented.
                request_checksum_calculation="when_required" if config.endpoint_url else None,
                response_checksum_validation="when_required" if config.endpoint_url else None,
            ),
        )

    def describe(self) -> str:
        where = f" at {self._endpoint}" if self._endpoint else ""
        return f"s3://{self._bucket}{where}"

    async def check(self) -> None:
        try:
            await asyncio.to_thread(self._client.head_bucket, Bucket=self._bucket)
        except ClientError as error:
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 404:
                problem = f"bucket {self._bucket!r} does not exist"
            elif status in (401, 403):
                problem = (
                    f"bucket {self._bucket!r} refused access_key_id / secret_access_key ({status})"
                )
            else:
                problem = f"bucket {self._bucket!r} answered {status}"
            raise ArchiveSetupError(f"{problem} ({self.describe()})") from None
        except BotoCoreError as error:
            raise ArchiveSetupError(f"{self.describe()} unreachable: {error}") from None

    def new_file(self, path: str) -> PendingFile:
        # Deleted when closed, or by the system if the process dies.
        return PendingFile(tempfile.TemporaryFile(prefix="furrow-archive-"), self._compress_level)

    async def publish(self, pending: PendingFile, path: str, key: FileKey, last: int) -> None:
        try:
            await asyncio.to_thread(self._publish, pending, path, key, last)
        except (BotoCoreError, ClientError, OSError) as error:
            raise PublishError(f"{path}: {error}") from error

    def _publish(self, pending: PendingFile, path: str, key: FileKey, last: int) -> None:
        pending.finish()
        # A file object of its own for each try: boto3 closes the one it uploads.
        with os.fdopen(os.dup(pending.raw.fileno()), "rb") as upload:
            upload.seek(0)
            self._client.upload_fileobj(upload, self._bucket, path)
        directory = path.rsplit("/", 1)[0] + "/"
        names: list[str] = []
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self._bucket, Prefix=directory + f"{key.topic}-{key.partition}-"
        )
        for page in pages:
            names += [item["Key"][len(directory) :] for item in page.get("Contents", [])]
        if stale := leftovers(names, key, last):
            self._client.delete_objects(
                Bucket=self._bucket,
                Delete={"Objects": [{"Key": directory + name} for name in stale]},
            )
        pending.raw.close()


def archive_target(config: ArchiveConfig) -> LocalDirectory | S3Bucket:
    if config.directory is not None:
        return LocalDirectory(config.directory, compress_level=config.compress_level)
    return S3Bucket(config)
