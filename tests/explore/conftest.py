"""Fixtures of the browser tests: the shipped data set behind a real server, and Chromium.

The server runs as in production behind a proxy: under a path prefix
(``ROOT_PATH``) and with the rate limit on, so the page is tested where it is
hardest to get right. Every view is opened in one Chromium for the module.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.remote.webdriver import WebDriver
from starlette.testclient import TestClient

from command.postgres_server import EmbeddedPostgres
from ingest_job.run import ingest
from service.app import create_app
from tests.api.live import LiveServer, serving
from tests.api.loaded import api_settings
from tests.explore.browser import chromium
from tests.harness import postgres
from warehouse.errors import ExitCode

PREFIX = "/weather"
# Well above what the tests' views ask for (a few dozen requests), far below unlimited.
RATE_LIMIT = "300"


@pytest.fixture(scope="session")
def shipped_url(pg_server: EmbeddedPostgres, real_data: Path) -> Iterator[str]:
    """A database holding the whole shipped data set, as ``make run`` loads it."""
    name = postgres.new_database(pg_server)
    url = pg_server.url(name)
    folders = [str(real_data / part) for part in ("wx_data", "yld_data", "stations")]
    report = ingest(api_settings(url), folders)
    assert report.exit_code is ExitCode.OK, report
    yield url
    postgres.drop_database(pg_server, name)


@pytest.fixture(scope="session")
def client(shipped_url: str) -> Iterator[TestClient]:
    """An in-process client of the app over the shipped data."""
    with TestClient(create_app(api_settings(shipped_url)), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="session")
def prefixed_client(shipped_url: str) -> Iterator[TestClient]:
    """The same, with the app under PREFIX (``ROOT_PATH``)."""
    app = create_app(api_settings(shipped_url, root_path=PREFIX))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="session")
def server(shipped_url: str) -> Iterator[LiveServer]:
    """``weather-warehouse serve`` under PREFIX with the rate limit on."""
    env = {"ROOT_PATH": PREFIX, "RATE_LIMIT_REQUESTS": RATE_LIMIT, "RATE_LIMIT_WINDOW_S": "60"}
    with serving(shipped_url, env) as live:
        yield live


@pytest.fixture(scope="session")
def base(server: LiveServer) -> str:
    """The page's server with its prefix: ``http://127.0.0.1:PORT/weather``."""
    return server.url + PREFIX


@pytest.fixture(scope="session")
def browser() -> Iterator[WebDriver]:
    with chromium() as driver:
        yield driver
