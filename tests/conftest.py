"""Fixtures every test can use: a real PostgreSQL server, a real moto server.

- ``pg_server``: one throwaway PostgreSQL server for the session.
- ``database_url``: a fresh, migrated database for one test.
- ``empty_database_url``: a fresh database with no schema.
- ``settings``: the warehouse Settings pointing at ``database_url``.
- ``moto_endpoint``: a moto server (reset before each test); AWS env set.
- ``real_data``: the real data set shipped in ``data/`` (``tests/harness/data.py``).
- ``pushgateway_url``: a real Prometheus Pushgateway (wiped before each test).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from command.postgres_server import EmbeddedPostgres
from tests.harness import data, moto, postgres, pushgateway
from tests.tools import require
from warehouse.settings import Settings


@pytest.fixture(scope="session")
def pg_server() -> Iterator[EmbeddedPostgres]:
    # Not under pytest's tmp_path: that is private to the test user, and the
    # server may run as another one (tests under root).
    base = Path(tempfile.mkdtemp(prefix="wh-pg-"))
    try:
        with postgres.running_server(base) as server:
            postgres.create_template(server)
            yield server
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def database_url(pg_server: EmbeddedPostgres) -> Iterator[str]:
    name = postgres.new_database(pg_server)
    yield pg_server.url(name)
    postgres.drop_database(pg_server, name)


@pytest.fixture
def empty_database_url(pg_server: EmbeddedPostgres) -> Iterator[str]:
    name = postgres.new_database(pg_server, migrated=False)
    yield pg_server.url(name)
    postgres.drop_database(pg_server, name)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=SecretStr(database_url), log_format="text")


@pytest.fixture(scope="session")
def _moto_server() -> Iterator[str]:
    with moto.running_server() as endpoint:
        yield endpoint


@pytest.fixture
def moto_endpoint(_moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    moto.reset(_moto_server)
    for key, value in moto.AWS_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", _moto_server)
    return _moto_server


@pytest.fixture(scope="session")
def real_data() -> Path:
    return data.real_data()


@pytest.fixture(scope="session")
def _pushgateway_server() -> Iterator[str]:
    with pushgateway.running_server(require("prometheus-pushgateway")) as url:
        yield url


@pytest.fixture
def pushgateway_url(_pushgateway_server: str) -> str:
    pushgateway.reset(_pushgateway_server)
    return _pushgateway_server
