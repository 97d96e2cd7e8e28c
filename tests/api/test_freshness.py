"""``/api/freshness`` and ``/api/freshness/stations``: runs, data-through dates, row counts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from command.postgres_server import EmbeddedPostgres
from ingest_job.run import ingest
from service.app import create_app
from tests.api.loaded import STATIONS, api_settings
from tests.api.test_weather import all_pages
from tests.harness import postgres
from tests.ingest.station_files import station_lines, write


def test_the_last_run_is_the_latest_finished_ingest_run(
    client: TestClient, loaded_url: str
) -> None:
    ((run_id, status, started, finished, inserted, updated),) = postgres.rows(
        loaded_url,
        "SELECT run_id, status, started_at, finished_at, rows_inserted, rows_updated"
        " FROM ingest_run ORDER BY finished_at DESC LIMIT 1",
    )
    body = client.get("/api/freshness").json()
    assert body["last_run"] == body["last_successful_run"]
    run = body["last_run"]
    assert (run["run_id"], run["status"], run["rows_inserted"], run["rows_updated"]) == (
        run_id, status, inserted, updated,
    )  # fmt: skip
    assert datetime.fromisoformat(run["started_at"]) == started
    assert datetime.fromisoformat(run["finished_at"]) == finished


def test_data_through_and_counts_are_those_of_the_observations(
    client: TestClient, loaded_url: str
) -> None:
    ((first, last, observations, stations, years),) = postgres.rows(
        loaded_url,
        "SELECT min(obs_date), max(obs_date), count(*), count(DISTINCT station_id),"
        " (SELECT count(*) FROM crop_yield) FROM observation",
    )
    body = client.get("/api/freshness").json()
    assert (body["data_from"], body["data_through"]) == (str(first), str(last))
    assert body["counts"] == {
        "stations": stations,
        "stations_with_data": stations,
        "observations": observations,
        "yield_years": years,
    }


def test_last_modified_is_the_last_run_and_that_of_every_data_response(
    client: TestClient,
) -> None:
    response = client.get("/api/freshness")
    finished = datetime.fromisoformat(response.json()["last_run"]["finished_at"])
    last_modified = parsedate_to_datetime(response.headers["last-modified"])
    assert last_modified == finished.astimezone(UTC).replace(microsecond=0)
    weather = client.get("/api/weather", params={"limit": 1})
    assert weather.headers["last-modified"] == response.headers["last-modified"]
    assert weather.headers["etag"].split("-")[:2] == response.headers["etag"].split("-")[:2]


def test_an_unchanged_report_is_a_304(client: TestClient) -> None:
    etag = client.get("/api/freshness").headers["etag"]
    response = client.get("/api/freshness", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""


def test_per_station_data_through_dates(client: TestClient, loaded_url: str) -> None:
    expected = postgres.rows(
        loaded_url,
        "SELECT station_id, min(obs_date), max(obs_date), count(*) FROM observation"
        " GROUP BY 1 ORDER BY 1",
    )
    rows = all_pages(client, "/api/freshness/stations?limit=2")
    assert [
        (r["station_id"], r["first_date"], r["last_date"], r["observation_count"]) for r in rows
    ] == [(s, str(f), str(t), n) for s, f, t, n in expected]


def test_stale_before_finds_the_station_that_stopped(client: TestClient) -> None:
    body = client.get("/api/freshness/stations", params={"stale_before": "2000-01-01"}).json()
    assert [r["station_id"] for r in body["data"]] == [STATIONS[2]]
    assert date.fromisoformat(body["data"][0]["last_date"]) < date(1991, 1, 1)


def test_per_station_csv(client: TestClient) -> None:
    text = client.get("/api/freshness/stations", params={"format": "csv"}).text
    lines = text.splitlines()
    assert lines[0] == "station_id,first_date,last_date,observation_count,updated_at"
    assert [line.split(",")[0] for line in lines[1:]] == sorted(STATIONS)
    assert all(datetime.fromisoformat(line.split(",")[4]).tzinfo for line in lines[1:])


@pytest.fixture
def fresh_client(pg_server: EmbeddedPostgres) -> Iterator[tuple[str, TestClient]]:
    """An app over its own database, which the test may load (the shared one is read-only)."""
    name = postgres.new_database(pg_server)
    url = pg_server.url(name)
    with TestClient(create_app(api_settings(url)), raise_server_exceptions=False) as client:
        yield url, client
    postgres.drop_database(pg_server, name)


def test_before_any_run_the_report_says_so(fresh_client: tuple[str, TestClient]) -> None:
    _, client = fresh_client
    response = client.get("/api/freshness")
    assert response.status_code == 200
    assert "last-modified" not in response.headers
    body = response.json()
    assert (body["last_run"], body["last_successful_run"], body["data_through"]) == (
        None, None, None,
    )  # fmt: skip
    assert set(body["counts"].values()) == {0}


def test_a_new_run_shows_at_once_and_a_failed_one_keeps_the_last_success(
    fresh_client: tuple[str, TestClient], tmp_path: Path
) -> None:
    url, client = fresh_client
    write(tmp_path / "a", "USC00000001.txt", station_lines(date(2001, 1, 1), 40))
    ingest(api_settings(url), [str(tmp_path / "a")])
    freshness = client.app.state.warehouse.freshness  # type: ignore[attr-defined]
    freshness.expire()
    first = client.get("/api/freshness").json()
    assert first["data_through"] == "2001-02-09"
    write(tmp_path / "b", "USC00000002.txt", station_lines(date(2001, 3, 1), 10))
    write(tmp_path / "b", "USC00000003.txt", ["not a station file"])
    report = ingest(api_settings(url), [str(tmp_path / "b")])
    assert not report.succeeded
    freshness.expire()
    second = client.get("/api/freshness").json()
    assert second["last_run"]["status"] == "failed"
    assert second["last_run"]["run_id"] > first["last_run"]["run_id"]
    assert second["last_successful_run"] == first["last_run"]
    # The good file of the failed run was loaded, and counts.
    assert second["data_through"] == "2001-03-10"
    assert second["counts"]["observations"] == 50
