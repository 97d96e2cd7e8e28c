"""Where files come from: a local file or folder, or ``s3://bucket/prefix``.

Listing a source gives :class:`SourceFile` handles; reading one gives its
bytes and a checksum (SHA-256 for local files; the ETag for S3 objects,
known from the listing, so that an unchanged object is skipped without
being downloaded). A source that cannot be listed raises
:class:`SourceUnreachable`; a file that cannot be read raises
:class:`ReadFailed` and fails alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from warehouse.errors import ExitCode, SourceUnreachable, WarehouseError
from warehouse.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class ReadFailed(WarehouseError):
    """One listed file could not be read (the run goes on without it)."""

    exit_code = ExitCode.FILES_REJECTED
    title = "File cannot be read"


@dataclass(frozen=True)
class SourceFile:
    """One file a source offers: where it is, how big, and how to read it."""

    uri: str
    size: int
    etag: str | None
    opener: Callable[[], bytes]

    @property
    def name(self) -> str:
        return self.uri.rstrip("/").rsplit("/", 1)[-1]

    def read(self) -> bytes:
        """The whole file; :class:`ReadFailed` if it cannot be read."""
        return self.opener()


def checksum(file: SourceFile, data: bytes) -> str:
    """The identity of a delivery: the S3 ETag, or the SHA-256 of the bytes."""
    if file.etag is not None:
        return f"etag:{file.etag}"
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def list_files(source: str, settings: Settings) -> list[SourceFile]:
    """Every file under ``source``, sorted by URI."""
    if source.startswith("s3://"):
        return _list_s3(source, settings)
    return _list_local(Path(source))


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
    def opener() -> bytes:
        try:
            return path.read_bytes()
        except OSError as exc:
            raise ReadFailed(f"{path}: cannot be read: {exc.strerror}") from None

    return SourceFile(uri=str(path), size=path.stat().st_size, etag=None, opener=opener)


def s3_client(settings: Settings) -> S3Client:
    """A boto3 S3 client: endpoint from the settings, anonymous if ``S3_UNSIGNED``."""
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    config = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=10)
    if settings.s3_unsigned:
        config = config.merge(Config(signature_version=UNSIGNED))
    return boto3.client("s3", endpoint_url=settings.aws_endpoint_url, config=config)


def _list_s3(source: str, settings: Settings) -> list[SourceFile]:
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, _, prefix = source.removeprefix("s3://").partition("/")
    if not bucket:
        raise SourceUnreachable(f"{source}: no bucket name (expected s3://bucket/prefix)")
    client = s3_client(settings)
    files: list[SourceFile] = []
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                key = item["Key"]
                if key.endswith("/"):
                    continue  # a "folder" placeholder
                files.append(
                    SourceFile(
                        uri=f"s3://{bucket}/{key}",
                        size=int(item["Size"]),
                        etag=item["ETag"].strip('"'),
                        opener=_s3_opener(client, bucket, key),
                    )
                )
    except ClientError as exc:
        raise SourceUnreachable(f"{source}: cannot be listed: {_aws_reason(exc)}") from None
    except BotoCoreError as exc:
        raise SourceUnreachable(f"{source}: cannot be listed: {exc}") from None
    return sorted(files, key=lambda f: f.uri)


def _s3_opener(client: S3Client, bucket: str, key: str) -> Callable[[], bytes]:
    def opener() -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as exc:
            raise ReadFailed(f"s3://{bucket}/{key}: cannot be read: {_aws_reason(exc)}") from None
        except BotoCoreError as exc:
            raise ReadFailed(f"s3://{bucket}/{key}: cannot be read: {exc}") from None

    return opener


def _aws_reason(exc: Any) -> str:
    error = exc.response.get("Error", {})
    code = error.get("Code", "error")
    message = error.get("Message", "")
    return f"{code}: {message}" if message else str(code)
