"""An upload through the real server lands in S3 (moto) and the next real ingest run loads it.

Also schemathesis over the upload operation, with the bearer token, so the
operation's documented bodies (raw and multipart) and answers are checked
like every other one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import Case, GenerationMode

from tests import cli
from tests.api.live import LiveServer, serving
from tests.api.test_openapi_conformance import CHECKS, EXAMPLES_PER_OPERATION
from tests.harness import moto
from tests.harness.waiting import wait_for

TOKEN = "upload-token-for-tests-0123456789"
BUCKET = "wh-incoming"
PREFIX = f"s3://{BUCKET}/uploads/"
STATION = "USC00999001"
FILE = (
    b"19850101\t  -22\t -128\t   94\n19850102\t -122\t -217\t    0\n19850103\t   5\t  -40\t   3\n"
)


@pytest.fixture
def upload_api(database_url: str, moto_endpoint: str) -> Iterator[LiveServer]:
    boto3.client("s3", endpoint_url=moto_endpoint).create_bucket(Bucket=BUCKET)
    env = {
        **moto.AWS_ENV,
        "AWS_ENDPOINT_URL": moto_endpoint,
        "UPLOAD_TOKEN": TOKEN,
        "UPLOAD_S3_PREFIX": PREFIX,
    }
    with serving(database_url, env) as server:
        yield server


def test_an_uploaded_form_file_is_loaded_by_the_next_ingest_run(
    upload_api: LiveServer, database_url: str, moto_endpoint: str
) -> None:
    response = httpx.post(
        f"{upload_api.url}/api/uploads",
        files={"file": (f"{STATION}.txt", FILE)},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 202, response.text
    assert response.json()["location"].startswith(PREFIX)
    before = httpx.get(f"{upload_api.url}/api/weather?station_id={STATION}").json()
    assert before["data"] == []

    env = {**moto.AWS_ENV, "AWS_ENDPOINT_URL": moto_endpoint, "DATABASE_URL": database_url}
    run = cli.run("ingest", "--source", PREFIX, env=env)
    assert run.returncode == 0, run.stderr

    # A new run is a new data version, which the API sees within its freshness
    # interval (caching.REFRESH_INTERVAL_S): then no cached page hides the new rows.
    def loaded() -> dict[str, Any] | None:
        url = f"{upload_api.url}/api/weather?station_id={STATION}"
        page: dict[str, Any] = httpx.get(url).json()
        return page if page["data"] else None

    after = wait_for(loaded, "the uploaded rows to be served", timeout=10)
    assert [row["date"] for row in after["data"]] == ["1985-01-01", "1985-01-02", "1985-01-03"]
    assert after["data"][0]["max_temp_c"] == -2.2


def test_the_upload_operation_conforms_to_its_schema_with_a_token(
    upload_api: LiveServer,
) -> None:
    schema = schemathesis.openapi.from_url(f"{upload_api.url}/openapi.json")
    (operation,) = [
        result.ok() for result in schema.get_all_operations() if result.ok().path == "/api/uploads"
    ]
    headers = {"Authorization": f"Bearer {TOKEN}"}
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
        )
        def conforms(case: Case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        conforms()
