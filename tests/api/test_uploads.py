"""``POST /api/uploads`` against a real moto S3 server: auth, size cap, validation, storage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import httpx
import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from service.app import create_app
from tests.api.loaded import api_settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

TOKEN = "upload-token-for-tests-0123456789"
BUCKET = "wh-uploads"
GOOD = b"19850101\t  -22\t -128\t   94\n19850102\t -122\t -217\t    0\n"


@pytest.fixture
def s3(moto_endpoint: str) -> S3Client:
    client = boto3.client("s3", endpoint_url=moto_endpoint)
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def uploads(database_url: str, s3: S3Client) -> Iterator[TestClient]:
    settings = api_settings(
        database_url,
        upload_token=SecretStr(TOKEN),
        upload_s3_prefix=f"s3://{BUCKET}/incoming/",
        upload_max_bytes=1024,
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def post(client: TestClient, name: str, data: bytes, token: str | None = TOKEN) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post("/api/uploads", params={"name": name}, content=data, headers=headers)


def test_a_valid_station_file_is_stored_for_the_next_run(uploads: TestClient, s3: S3Client) -> None:
    response = post(uploads, "USC00110072.txt", GOOD)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["rows"] == 2
    assert response.headers["location"] == body["location"]
    bucket, _, key = body["location"].removeprefix("s3://").partition("/")
    assert bucket == BUCKET
    assert key.startswith("incoming/")
    assert key.endswith("/USC00110072.txt")
    stored = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert stored == GOOD


def test_two_uploads_of_one_name_do_not_overwrite_each_other(uploads: TestClient) -> None:
    first = post(uploads, "USC00110072.txt", GOOD).json()["location"]
    second = post(uploads, "USC00110072.txt", GOOD).json()["location"]
    assert first != second


def test_a_yield_file_is_accepted(uploads: TestClient) -> None:
    response = post(uploads, "US_corn_grain_yield.txt", b"1985\t225447\n1986\t208944\n")
    assert response.status_code == 202


def test_missing_token_is_a_401_with_a_challenge(uploads: TestClient) -> None:
    response = post(uploads, "USC00110072.txt", GOOD, token=None)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"] == "application/problem+json"


def test_wrong_token_is_a_403(uploads: TestClient) -> None:
    assert post(uploads, "USC00110072.txt", GOOD, token="x" * 33).status_code == 403


def test_file_over_the_size_cap_is_a_413(uploads: TestClient, s3: S3Client) -> None:
    response = post(uploads, "USC00110072.txt", GOOD * 100)
    assert response.status_code == 413
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)


def test_bad_lines_are_a_422_listing_file_and_line(uploads: TestClient, s3: S3Client) -> None:
    data = GOOD + b"19850103\tabc\t -1\t 0\n"
    response = post(uploads, "USC00110072.txt", data)
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["detail"].startswith("USC00110072.txt:3: ")
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)


def test_unknown_kind_of_file_is_a_415(uploads: TestClient) -> None:
    assert post(uploads, "notes.pdf", b"%PDF-1.4").status_code == 415


def test_a_name_with_a_folder_is_a_400(uploads: TestClient) -> None:
    response = post(uploads, "../USC00110072.txt", GOOD)
    assert response.status_code == 400
    assert response.json()["errors"][0]["parameter"] == "name"


def test_without_a_token_configured_the_endpoint_does_not_exist(
    client: TestClient,
) -> None:
    assert client.post("/api/uploads?name=USC00110072.txt", content=GOOD).status_code == 404
    assert "/api/uploads" not in client.get("/openapi.json").json()["paths"]


def test_token_from_a_file(database_url: str, s3: S3Client, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    settings = api_settings(
        database_url, upload_token_file=token_file, upload_s3_prefix=f"s3://{BUCKET}/in"
    )
    with TestClient(create_app(settings)) as client:
        response = post(client, "USC00110072.txt", GOOD)
    assert response.status_code == 202
    assert response.json()["location"].startswith(f"s3://{BUCKET}/in/")


def post_form(
    client: TestClient, files: dict[str, tuple[str, bytes]], **params: str
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    return client.post("/api/uploads", params=params, files=files, headers=headers)


def test_a_multipart_form_takes_the_name_from_the_file(uploads: TestClient, s3: S3Client) -> None:
    response = post_form(uploads, {"file": ("USC00110072.txt", GOOD)})
    assert response.status_code == 202, response.text
    assert response.json()["name"] == "USC00110072.txt"
    bucket, _, key = response.json()["location"].removeprefix("s3://").partition("/")
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == GOOD


def test_the_name_parameter_wins_over_the_form_filename(uploads: TestClient) -> None:
    response = post_form(uploads, {"file": ("upload.txt", GOOD)}, name="USC00110187.txt")
    assert response.status_code == 202, response.text
    assert response.json()["location"].endswith("/USC00110187.txt")


def test_a_form_without_a_file_part_is_a_400(uploads: TestClient) -> None:
    response = post_form(uploads, {"data": ("USC00110072.txt", GOOD)})
    assert response.status_code == 400
    assert "'data'" in response.json()["detail"]


def test_a_form_file_with_a_folder_in_its_name_keeps_only_the_base_name(
    uploads: TestClient,
) -> None:
    response = post_form(uploads, {"file": ("C:\\data\\USC00110072.txt", GOOD)})
    assert response.status_code == 202, response.text
    assert response.json()["name"] == "USC00110072.txt"


def test_a_form_file_over_the_size_cap_is_a_413(uploads: TestClient, s3: S3Client) -> None:
    response = post_form(uploads, {"file": ("USC00110072.txt", GOOD * 100)})
    assert response.status_code == 413
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)


def test_a_truncated_form_is_a_400(uploads: TestClient) -> None:
    body = b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n19850101'
    response = uploads.post(
        "/api/uploads",
        content=body,
        headers={
            "Authorization": f"Bearer {TOKEN}",
            "Content-Type": "multipart/form-data; boundary=xyz",
        },
    )
    assert response.status_code == 400
    assert "multipart" in response.json()["detail"]


def test_a_raw_body_without_a_name_is_a_400_naming_the_parameter(uploads: TestClient) -> None:
    response = uploads.post(
        "/api/uploads", content=GOOD, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["parameter"] == "name"
