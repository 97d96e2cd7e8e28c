"""The README's station examples find stations in the data set shipped in data/.

The database holds what ``make run`` loads for station search: the station
inventory of data/ (NOAA's rows for every shipped station), loaded through the
ingest job. Each README example of ``/api/stations/search`` and
``/api/stations/nearest`` must then answer at least one station.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from command.postgres_server import EmbeddedPostgres
from ingest_job.run import ingest
from service.app import create_app
from tests.api.loaded import api_settings
from tests.api.test_readme_curl import examples
from tests.harness import postgres
from warehouse.errors import ExitCode


def station_examples() -> list[str]:
    """The README's station search and nearest URLs, as paths with their query."""
    urls = [next(w for w in shlex.split(e) if w.startswith("http://")) for e in examples()]
    return [
        url.removeprefix("http://127.0.0.1:8000")
        for url in urls
        if "/api/stations/search" in url or "/api/stations/nearest" in url
    ]


@pytest.fixture(scope="module")
def shipped_client(pg_server: EmbeddedPostgres, real_data: Path) -> Iterator[TestClient]:
    name = postgres.new_database(pg_server)
    settings = api_settings(pg_server.url(name))
    report = ingest(settings, [str(real_data / "stations")])
    assert report.exit_code is ExitCode.OK, report
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client
    postgres.drop_database(pg_server, name)


def test_the_readme_shows_search_by_name_by_id_by_box_and_nearest() -> None:
    shown = " ".join(station_examples())
    for part in ("search?q=", "search?bbox=", "nearest?lat="):
        assert part in shown


@pytest.mark.parametrize("path", station_examples())
def test_a_readme_station_example_finds_shipped_stations(
    shipped_client: TestClient, path: str
) -> None:
    response = shipped_client.get(path)
    assert response.status_code == 200, response.text
    items = response.json()["data"]
    assert items, path
    assert all(item["name"] and item["latitude"] is not None for item in items)
