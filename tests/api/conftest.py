"""Fixtures of the API tests: a database loaded once through the ingest job, and clients.

The API never writes, so one loaded database serves every read test. Data
enter it the way production data do: real station and yield files from the
data set shipped in data/, copied into a folder and loaded by ``ingest_job.run.ingest``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from starlette.testclient import TestClient

from command.postgres_server import EmbeddedPostgres
from service.app import create_app
from tests.api.loaded import api_settings, load_real_files
from tests.harness import postgres

if TYPE_CHECKING:
    from tests.api.live import LiveServer


@pytest.fixture(scope="session")
def loaded_url(
    pg_server: EmbeddedPostgres, real_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    name = postgres.new_database(pg_server)
    url = pg_server.url(name)
    load_real_files(api_settings(url), tmp_path_factory.mktemp("api-data"), real_data)
    yield url
    postgres.drop_database(pg_server, name)


@pytest.fixture(scope="session")
def client(loaded_url: str) -> Iterator[TestClient]:
    """An in-process client of the app over the loaded database."""
    with TestClient(create_app(api_settings(loaded_url)), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="session")
def live(loaded_url: str) -> Iterator[LiveServer]:
    """The real server (``weather-warehouse serve``) over the loaded database."""
    from tests.api.live import serving

    with serving(loaded_url) as server:
        yield server
