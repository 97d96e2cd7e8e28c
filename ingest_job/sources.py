"""Where files come from: a local file or folder, or ``s3://bucket/prefix``.

Listing a source gives :class:`SourceFile` handles; reading one gives its
bytes in chunks (never the whole file at once) and a checksum (SHA-256 for
local files; the ETag for S3 objects, known from the listing, so that an
unchanged object is skipped without being downloaded). S3 is listed page
by page (:func:`pages`). A source that cannot be listed raises
:class:`SourceUnreachable`; a file that cannot be read raises
:class:`ReadFailed` and fails alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ingest_job.formats.base import BLOCK_BYTES
from warehouse.errors import ExitCode, SourceUnreachable, WarehouseError
from warehouse.s3 import s3_client
from warehouse.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class ReadFailed(WarehouseError):
    """One listed file could not be read (the run goes on without it)."""

    exit_code = ExitCode.FILES_REJECTED
    title = "File cannot be read"


class Readable(Protocol):
    """What an open file gives: bytes, a few at a time."""

    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class SourceFile:
    """One file a source offers: where it is, how big, and how to read it."""

    uri: str
    size: int
    etag: str | None
    opener: Callable[[], Readable]

    @property
    def name(self) -> str:
        return self.uri.rstrip("/").rsplit("/", 1)[-1]

    def chunks(self, size: int = BLOCK_BYTES) -> Iterator[bytes]:
        """The file, ``size`` bytes at a time; :class:`ReadFailed` if it cannot be read."""
        stream = self.opener()
        try:
            while True:
                try:
                    chunk = stream.read(size)
                except OSError as exc:
                    raise ReadFailed(f"{self.uri}: cannot be read: {exc}") from None
                if not chunk:
                    return
                yield chunk
        finally:
            stream.close()

    def read(self) -> bytes:
        """The whole file (only for files known to be small)."""
        return b"".join(self.chunks())

    def checksum(self) -> str:
        """The identity of a delivery: the S3 ETag, or the SHA-256 of the bytes (read in chunks)."""
        if self.etag is not None:
            return f"etag:{self.etag}"
        digest = hashlib.sha256()
        for chunk in self.chunks():
            digest.update(chunk)
        return f"sha256:{digest.hexdigest()}"


def checksum(file: SourceFile, data: bytes) -> str:
    """The identity of a delivery held in memory: the S3 ETag, or the SHA-256 of ``data``."""
    if file.etag is not None:
        return f"etag:{file.etag}"
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def list_files(source: str, settings: Settings) -> list[SourceFile]:
    """Every file under ``source``, sorted by URI."""
    return sorted((f for page in pages(source, settings) for f in page), key=lambda f: f.uri)


def pages(source: str, settings: Settings) -> Iterator[list[SourceFile]]:
    """The files under ``source`` a page at a time (S3: 1,000 keys, in key order)."""
    if source.startswith("s3://"):
        yield from _pages_s3(source, settings)
    else:
        yield _list_local(Path(source))


def _list_local(path: Path) -> list[SourceFile]:
    try:
        if path.is_file():
            paths = [path]
        elif path.is_dir():
            paths = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
        else:
            raise SourceUnreachable(f"{path}: no such file or folder")
        return [_local_file(p.resolve()) for p in paths]
    except OSError as exc:
        raise SourceUnreachable(f"{path}: cannot be read: {exc.strerror}") from None


def _local_file(path: Path) -> SourceFile:
    def opener() -> Readable:
        try:
            return path.open("rb")
        except OSError as exc:
            raise ReadFailed(f"{path}: cannot be read: {exc.strerror}") from None

    return SourceFile(uri=str(path), size=path.stat().st_size, etag=None, opener=opener)


def _pages_s3(source: str, settings: Settings) -> Iterator[list[SourceFile]]:
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, _, prefix = source.removeprefix("s3://").partition("/")
    if not bucket:
        raise SourceUnreachable(f"{source}: no bucket name (expected s3://bucket/prefix)")
    client = s3_client(settings)
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            yield [
                SourceFile(
                    uri=f"s3://{bucket}/{item['Key']}",
                    size=int(item["Size"]),
                    etag=item["ETag"].strip('"'),
                    opener=_s3_opener(client, bucket, item["Key"]),
                )
                for item in page.get("Contents", [])
                if not item["Key"].endswith("/")  # a "folder" placeholder
            ]
    except ClientError as exc:
        raise SourceUnreachable(f"{source}: cannot be listed: {_aws_reason(exc)}") from None
    except BotoCoreError as exc:
        raise SourceUnreachable(f"{source}: cannot be listed: {exc}") from None


def _s3_opener(client: S3Client, bucket: str, key: str) -> Callable[[], Readable]:
    def opener() -> Readable:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            body = client.get_object(Bucket=bucket, Key=key)["Body"]
        except ClientError as exc:
            raise ReadFailed(f"s3://{bucket}/{key}: cannot be read: {_aws_reason(exc)}") from None
        except BotoCoreError as exc:
            raise ReadFailed(f"s3://{bucket}/{key}: cannot be read: {exc}") from None
        return _S3Body(body, f"s3://{bucket}/{key}")

    return opener


class _S3Body:
    """An object's body; a connection lost mid-way is a :class:`ReadFailed` of that file."""

    def __init__(self, body: Any, uri: str) -> None:
        self._body = body
        self._uri = uri

    def read(self, size: int = -1, /) -> bytes:
        from botocore.exceptions import BotoCoreError

        try:
            return bytes(self._body.read(size if size >= 0 else None))
        except (BotoCoreError, OSError) as exc:
            raise ReadFailed(f"{self._uri}: cannot be read: {exc}") from None

    def close(self) -> None:
        self._body.close()


def _aws_reason(exc: Any) -> str:
    error = exc.response.get("Error", {})
    code = error.get("Code", "error")
    message = error.get("Message", "")
    return f"{code}: {message}" if message else str(code)
