"""The S3 client, made one way for the ingest job's sources and the API's uploads."""

from __future__ import annotations

from typing import TYPE_CHECKING

from warehouse.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def s3_client(settings: Settings) -> S3Client:
    """A boto3 S3 client: endpoint from the settings, anonymous if ``S3_UNSIGNED``."""
    # Imported here: boto3 is slow to import, and most commands never touch S3.
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    config = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=10)
    if settings.s3_unsigned:
        config = config.merge(Config(signature_version=UNSIGNED))
    return boto3.client("s3", endpoint_url=settings.aws_endpoint_url, config=config)
