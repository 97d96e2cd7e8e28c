"""NDJSON exports: every list streams one JSON object a line, the same objects as its pages."""

from __future__ import annotations

import orjson
import pytest
from starlette.testclient import TestClient

from tests.api.loaded import STATIONS


def all_pages(client: TestClient, path: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    url: str | None = path + "&limit=1000"
    while url is not None:
        body = client.get(url).json()
        rows.extend(body["data"])
        url = body["next"]
    return rows


@pytest.mark.parametrize(
    "path",
    [
        f"/api/weather?station_id={STATIONS[2]}",
        f"/api/weather/stats?station_id={STATIONS[0]}&units=imperial",
        "/api/yield?start_year=1985",
    ],
)
def test_ndjson_holds_the_same_objects_as_the_json_pages(client: TestClient, path: str) -> None:
    response = client.get(path + "&format=ndjson")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    assert response.text.endswith("\n")
    lines = [orjson.loads(line) for line in response.text.splitlines()]
    assert lines == all_pages(client, path)


def test_accept_header_chooses_ndjson(client: TestClient) -> None:
    response = client.get(
        f"/api/weather?station_id={STATIONS[2]}", headers={"Accept": "application/x-ndjson"}
    )
    assert response.headers["content-type"] == "application/x-ndjson"


def test_ndjson_export_crosses_chunks_without_losing_a_row(
    client: TestClient, loaded_url: str
) -> None:
    from tests.harness import postgres

    (expected,) = postgres.rows(loaded_url, "SELECT count(*) FROM observation")[0]
    response = client.get("/api/weather?format=ndjson")
    lines = response.content.splitlines()
    assert len(lines) == expected
    keys = [(o["station_id"], o["date"]) for o in map(orjson.loads, lines)]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


def test_an_empty_ndjson_export_is_an_empty_body(client: TestClient) -> None:
    response = client.get("/api/weather?station_id=USC99999999&format=ndjson")
    assert response.status_code == 200
    assert response.content == b""


def test_406_names_ndjson_among_the_offered_types(client: TestClient) -> None:
    response = client.get("/api/weather", headers={"Accept": "application/xml"})
    assert response.status_code == 406
    assert "application/x-ndjson" in response.json()["detail"]
