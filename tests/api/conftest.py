"""Fixtures of the API tests: a database loaded once through the ingest job, and clients.

The API never writes, so one loaded database serves every read test. Data
enter it the way production data do: real station and yield files from the
data set shipped in data/, copied into a folder and loaded by ``ingest_job.run.ingest``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from command.postgres_server import EmbeddedPostgres
from ingest_job.run import ingest
from service.app import create_app
from tests.harness import postgres
from warehouse.errors import ExitCode
from warehouse.settings import Settings

if TYPE_CHECKING:
    from tests.api.live import LiveServer

# Two full stations and one that stops in 1990 (fewer rows, other end date).
STATIONS = ("USC00110072", "USC00110187", "USC00253035")
CURSOR_SECRET = "test-cursor-secret"


def api_settings(url: str, **overrides: object) -> Settings:
    """Settings for an app over ``url``."""
    values: dict[str, object] = {
        "database_url": SecretStr(url),
        "cursor_secret": SecretStr(CURSOR_SECRET),
        "log_format": "text",
        # Starlette's TestClient sends "Host: testserver".
        "allowed_hosts": ("testserver", "localhost", "127.0.0.1"),
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


def load_real_files(settings: Settings, folder: Path, real_data: Path) -> None:
    """Copy the chosen station files and the yield file to ``folder`` and ingest them."""
    folder.mkdir(parents=True, exist_ok=True)
    for station in STATIONS:
        shutil.copy(real_data / "wx_data" / f"{station}.txt", folder)
    for path in (real_data / "yld_data").iterdir():
        shutil.copy(path, folder)
    report = ingest(settings, [str(folder)])
    assert report.exit_code is ExitCode.OK, report


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


def db_rows(url: str, query: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Rows straight from the database, to compare the API with."""
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()
