"""Every header the live API sends is described in its OpenAPI document, for every operation.

Each documented operation is called over real HTTP in the ways that give
its different responses (a page with a next page, CSV, 304, 400, 404, 406),
and each header of each response must be listed under that status in
``/openapi.json``. HTTP's own framing headers are exempt (Content-Type is
ignored by OpenAPI by definition).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from service.app import create_app
from tests.api.live import LiveServer
from tests.api.loaded import STATIONS, api_settings

EXEMPT = {"content-type", "content-length", "transfer-encoding", "date", "server", "connection"}
# Values for the parameters an operation requires.
REQUIRED = {"lat": "47.6", "lon": "-122.3"}
PATH_VALUES = {"station_id": STATIONS[0]}


@pytest.fixture(scope="module")
def document(live: LiveServer) -> dict[str, Any]:
    document: dict[str, Any] = httpx.get(f"{live.url}/openapi.json").json()
    return document


def _documented(document: dict[str, Any], path: str, status: int) -> set[str]:
    responses = document["paths"][path]["get"]["responses"]
    response = responses.get(str(status))
    assert response is not None, f"GET {path} answered {status}, which is not documented"
    return {name.lower() for name in response.get("headers", {})}


def _calls(document: dict[str, Any], path: str) -> list[tuple[dict[str, str], dict[str, str]]]:
    """(query, headers) of the requests that give this operation's responses."""
    operation = document["paths"][path]["get"]
    names = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
    base = {name: REQUIRED[name] for name in names if name in REQUIRED}
    calls = [(base, {}), ({**base, "unknown_parameter": "1"}, {})]
    if "limit" in names:
        calls.append(({**base, "limit": "1"}, {}))  # a next page: Link
    if "format" in names:
        calls.append(({**base, "format": "csv"}, {}))
    if "400" in operation["responses"] or "406" in operation["responses"]:
        calls.append((base, {"Accept": "image/png"}))
    return calls


def test_every_response_header_is_documented(live: LiveServer, document: dict[str, Any]) -> None:
    undocumented: list[str] = []
    seen: set[tuple[str, int]] = set()
    with httpx.Client(base_url=live.url) as client:
        for path, methods in document["paths"].items():
            if "get" not in methods:
                continue
            url = path
            for name, value in PATH_VALUES.items():
                url = url.replace("{" + name + "}", value)
            for query, headers in _calls(document, path):
                responses = [client.get(url, params=query, headers=headers)]
                etag = responses[0].headers.get("etag")
                if etag:
                    responses.append(
                        client.get(url, params=query, headers={**headers, "If-None-Match": etag})
                    )
                for response in responses:
                    seen.add((path, response.status_code))
                    documented = _documented(document, path, response.status_code)
                    for name in response.headers:
                        if name.lower() not in EXEMPT | documented:
                            undocumented.append(f"GET {path} {response.status_code}: {name}")
        missing = client.get("/api/stations/USC99999999")
        seen.add(("/api/stations/{station_id}", missing.status_code))
        documented = _documented(document, "/api/stations/{station_id}", missing.status_code)
        undocumented += [
            f"GET /api/stations/{{station_id}} 404: {name}"
            for name in missing.headers
            if name.lower() not in EXEMPT | documented
        ]
    assert sorted(set(undocumented)) == []
    # The walk reached the responses that carry the most headers.
    assert {("/api/weather", 200), ("/api/weather", 304), ("/api/weather", 400)} <= seen
    assert ("/api/stations/{station_id}", 404) in seen


def test_the_document_describes_each_header_once(document: dict[str, Any]) -> None:
    described = document["components"]["headers"]
    for path, methods in document["paths"].items():
        for method in methods.values():
            for status, response in method["responses"].items():
                for name, header in response.get("headers", {}).items():
                    assert header == {"$ref": f"#/components/headers/{name}"}, (path, status)
                    assert described[name]["description"]


UPLOAD_TOKEN = "header-walk-upload-token-0123456789"


@pytest.fixture
def uploads(database_url: str, moto_endpoint: str) -> Iterator[TestClient]:
    """The app with uploads configured, over a real moto S3 bucket."""
    boto3.client("s3", endpoint_url=moto_endpoint).create_bucket(Bucket="wh-headers")
    settings = api_settings(
        database_url,
        upload_token=SecretStr(UPLOAD_TOKEN),
        upload_s3_prefix="s3://wh-headers/incoming/",
        upload_max_bytes=1024,
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def test_every_upload_response_header_is_documented(uploads: TestClient) -> None:
    document = uploads.get("/openapi.json").json()
    responses = document["paths"]["/api/uploads"]["post"]["responses"]
    good = b"19850101\t  -22\t -128\t   94\n"
    bearer = {"Authorization": f"Bearer {UPLOAD_TOKEN}"}
    calls = [
        ("USC00110072.txt", good, bearer),  # 202
        ("USC00110072.txt", good, {}),  # 401
        ("USC00110072.txt", good, {"Authorization": "Bearer wrong"}),  # 403
        ("USC00110072.txt", good * 100, bearer),  # 413
        ("picture.png", b"\x89PNG", bearer),  # 415
        ("USC00110072.txt", b"19850101\tx\n", bearer),  # 422
        ("../escape.txt", good, bearer),  # 400
    ]
    statuses = set()
    undocumented = []
    for name, body, headers in calls:
        params = {"name": name}
        response = uploads.post("/api/uploads", params=params, content=body, headers=headers)
        statuses.add(response.status_code)
        assert str(response.status_code) in responses, response.status_code
        documented = responses[str(response.status_code)].get("headers", {})
        undocumented += [
            f"{response.status_code}: {header}"
            for header in response.headers
            if header.lower() not in EXEMPT | {n.lower() for n in documented}
        ]
    assert undocumented == []
    assert statuses == {202, 401, 403, 413, 415, 422, 400}
