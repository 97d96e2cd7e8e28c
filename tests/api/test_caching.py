"""HTTP caching: validators from the latest finished ingest run, 304s, Cache-Control."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from command.postgres_server import EmbeddedPostgres
from ingest_job.run import ingest
from service.app import create_app
from tests.api.loaded import STATIONS, api_settings, load_real_files
from tests.harness import postgres

WEATHER = f"/api/weather?station_id={STATIONS[0]}&limit=5"


def test_data_responses_carry_validators_and_cdn_cache_control(client: TestClient) -> None:
    response = client.get(WEATHER)
    assert response.headers["etag"].startswith('W/"')
    assert response.headers["last-modified"].endswith(" GMT")
    assert "public" in response.headers["cache-control"]
    assert "max-age=" in response.headers["cache-control"]
    assert response.headers["vary"] == "Accept, Accept-Encoding"


def test_matching_if_none_match_is_a_304_without_body(client: TestClient) -> None:
    etag = client.get(WEATHER).headers["etag"]
    response = client.get(WEATHER, headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    strong = etag.removeprefix("W/")
    assert client.get(WEATHER, headers={"If-None-Match": f'"x", {strong}'}).status_code == 304


def test_stale_if_none_match_gets_the_full_response(client: TestClient) -> None:
    response = client.get(WEATHER, headers={"If-None-Match": 'W/"0-0-json"'})
    assert response.status_code == 200
    assert response.json()["data"]


def test_if_modified_since_the_last_run_is_a_304(client: TestClient) -> None:
    last_modified = client.get(WEATHER).headers["last-modified"]
    response = client.get(WEATHER, headers={"If-Modified-Since": last_modified})
    assert response.status_code == 304
    old = client.get(WEATHER, headers={"If-Modified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"})
    assert old.status_code == 200


def test_csv_and_json_have_different_etags(client: TestClient) -> None:
    json_tag = client.get(WEATHER).headers["etag"]
    csv_tag = client.get(WEATHER, headers={"Accept": "text/csv"}).headers["etag"]
    assert json_tag != csv_tag


def test_errors_are_not_cached(client: TestClient) -> None:
    assert client.get("/api/weather?limit=0").headers["cache-control"] == "no-store"


@pytest.fixture
def fresh_url(pg_server: EmbeddedPostgres) -> Iterator[str]:
    name = postgres.new_database(pg_server)
    yield pg_server.url(name)
    postgres.drop_database(pg_server, name)


def test_a_new_ingest_run_changes_the_etag(fresh_url: str, real_data: Path, tmp_path: Path) -> None:
    settings = api_settings(fresh_url)
    with TestClient(create_app(settings)) as client:
        assert "etag" not in client.get(WEATHER).headers  # no run has finished yet
        load_real_files(settings, tmp_path / "first", real_data)
        client.app.state.warehouse.freshness.expire()
        first = client.get(WEATHER).headers["etag"]
        second_folder = tmp_path / "second"
        second_folder.mkdir()
        (second_folder / "USC00999999.txt").write_text("20200101\t  10\t  -5\t   0\n")
        ingest(settings, [str(second_folder)])
        client.app.state.warehouse.freshness.expire()
        second = client.get(WEATHER).headers["etag"]
    assert first != second
