"""S3 sources against a real moto server: same tables as local files, ETags, unsigned access."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from pydantic import SecretStr

from ingest_job.run import ingest
from tests.harness.postgres import one, rows
from tests.ingest.tables import table_digest
from warehouse.errors import ExitCode
from warehouse.settings import Settings

BUCKET = "weather-incoming"


@pytest.fixture
def s3_settings(settings: Settings, moto_endpoint: str) -> Settings:
    return settings.model_copy(update={"aws_endpoint_url": moto_endpoint})


def upload(endpoint: str, folder: Path, bucket: str = BUCKET, prefix: str = "incoming/") -> None:
    s3 = boto3.client("s3", endpoint_url=endpoint)
    s3.create_bucket(Bucket=bucket)
    for path in sorted(folder.iterdir()):
        s3.put_object(Bucket=bucket, Key=prefix + path.name, Body=path.read_bytes())


def url_of(settings: Settings) -> str:
    return settings.database_url.get_secret_value()  # type: ignore[union-attr]


def test_s3_and_local_sources_give_identical_tables(
    s3_settings: Settings, other_database: str, wx_folder: Path, moto_endpoint: str
) -> None:
    upload(moto_endpoint, wx_folder)
    from_s3 = ingest(s3_settings, [f"s3://{BUCKET}/incoming/"])
    local_settings = Settings(database_url=SecretStr(other_database), log_format="text")
    from_folder = ingest(local_settings, [str(wx_folder)])
    assert from_s3.exit_code == from_folder.exit_code == ExitCode.OK
    assert from_s3.rows_inserted == from_folder.rows_inserted == 188
    assert table_digest(url_of(s3_settings)) == table_digest(other_database)
    assert one(url_of(s3_settings), "SELECT min(uri) FROM ingest_file") == (
        f"s3://{BUCKET}/incoming/USC00000001.txt"
    )


def test_unchanged_objects_are_skipped_by_etag(
    s3_settings: Settings, wx_folder: Path, moto_endpoint: str
) -> None:
    upload(moto_endpoint, wx_folder)
    ingest(s3_settings, [f"s3://{BUCKET}/incoming/"])
    again = ingest(s3_settings, [f"s3://{BUCKET}/incoming/"])
    assert (again.files_skipped, again.rows_inserted, again.rows_updated) == (4, 0, 0)
    checksums = rows(url_of(s3_settings), "SELECT DISTINCT left(checksum, 5) FROM ingest_file")
    assert checksums == [("etag:",)]


def test_an_object_that_cannot_be_read_fails_alone(
    s3_settings: Settings, wx_folder: Path, moto_endpoint: str
) -> None:
    upload(moto_endpoint, wx_folder)
    # An archived object: listed, but GetObject answers InvalidObjectState.
    boto3.client("s3", endpoint_url=moto_endpoint).put_object(
        Bucket=BUCKET, Key="incoming/USC00000099.txt", Body=b"20000101\t1\t2\t3\n",
        StorageClass="GLACIER",
    )  # fmt: skip
    report = ingest(s3_settings, [f"s3://{BUCKET}/incoming/"])
    assert report.exit_code == ExitCode.FILES_REJECTED
    assert (report.files_loaded, report.files_failed) == (4, 1)
    (problem,) = report.problems
    assert problem.startswith(f"s3://{BUCKET}/incoming/USC00000099.txt: cannot be read: ")
    assert "InvalidObjectState" in problem
    assert one(url_of(s3_settings), "SELECT status FROM ingest_file WHERE uri LIKE %s",
               ("%USC00000099.txt",)) == "failed"  # fmt: skip


def test_a_missing_bucket_is_a_source_unreachable_failure(s3_settings: Settings) -> None:
    report = ingest(s3_settings, ["s3://no-such-bucket/incoming/"])
    assert report.exit_code == ExitCode.SOURCE_UNREACHABLE
    assert report.error is not None
    assert "s3://no-such-bucket/incoming/: cannot be listed: NoSuchBucket" in report.error


NOAA_CSV = (
    "ID,DATE,ELEMENT,DATA_VALUE,M_FLAG,Q_FLAG,S_FLAG,OBS_TIME\n"
    "USW00014819,20240101,TMAX,56,,,W,2400\n"
    "USW00014819,20240101,TMIN,-12,,,W,2400\n"
    "USW00014819,20240101,PRCP,3,,,W,2400\n"
    "USW00014819,20240102,TMAX,61,,,W,2400\n"
    "USW00014819,20240102,TMIN,-20,,G,W,2400\n"
    "USW00014819,20240102,SNWD,0,,,W,2400\n"
)


def test_noaa_by_station_csv_loads_with_unsigned_requests(
    s3_settings: Settings, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    boto3.client("s3", endpoint_url=moto_endpoint).create_bucket(Bucket="noaa-ghcn-pds")
    # NOAA's bucket is public: anonymous requests may read it, as here.
    boto3.client("s3", endpoint_url=moto_endpoint).put_object(
        Bucket="noaa-ghcn-pds", Key="csv/by_station/USW00014819.csv", Body=NOAA_CSV.encode(),
        ACL="public-read",
    )  # fmt: skip
    # No credentials at all: only an unsigned client can make these requests.
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    unsigned = s3_settings.model_copy(update={"s3_unsigned": True})
    report = ingest(unsigned, ["s3://noaa-ghcn-pds/csv/by_station/USW00014819.csv"])
    assert report.problems == []
    assert (report.exit_code, report.rows_inserted, report.values_rejected_qc) == (
        ExitCode.OK,
        2,
        1,
    )
    assert rows(
        url_of(s3_settings),
        "SELECT obs_date::text, tmax_tenths_c, tmin_tenths_c, prcp_tenths_mm FROM observation "
        "ORDER BY obs_date",
    ) == [("2024-01-01", 56, -12, 3), ("2024-01-02", 61, None, None)]
