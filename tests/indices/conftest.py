"""Fixtures of the indices tests: the whole real data set loaded once, and a client over it.

Every station of ``data/`` (167, 1985-2014) and the yield series go through
the ingest job into one database, as in production; the API reads it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from command.postgres_server import EmbeddedPostgres
from ingest_job.run import ingest
from service.app import create_app
from tests.api.loaded import api_settings
from tests.harness import postgres
from warehouse.errors import ExitCode


@pytest.fixture(scope="package")
def all_stations_url(pg_server: EmbeddedPostgres, real_data: Path) -> Iterator[str]:
    """A database holding every shipped station and the yield series."""
    name = postgres.new_database(pg_server)
    url = pg_server.url(name)
    report = ingest(api_settings(url), [str(real_data / "wx_data"), str(real_data / "yld_data")])
    assert report.exit_code is ExitCode.OK, report
    yield url
    postgres.drop_database(pg_server, name)


@pytest.fixture(scope="package")
def all_stations(all_stations_url: str) -> Iterator[TestClient]:
    """An in-process client of the app over every shipped station."""
    app = create_app(api_settings(all_stations_url))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
