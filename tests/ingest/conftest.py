"""Fixtures of the ingest tests: a folder of station files, a second database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from command.postgres_server import EmbeddedPostgres
from tests.harness import postgres
from tests.ingest.station_files import station_lines, write


@pytest.fixture
def wx_folder(tmp_path: Path) -> Path:
    """A folder of three small, clean station files and a yield file."""
    folder = tmp_path / "wx"
    for seed, station in enumerate(("USC00000001", "USC00000002", "USC00000003")):
        write(folder, f"{station}.txt", station_lines(date(1999, 12, 1), 62, seed=seed))
    write(folder, "US_corn_grain_yield.txt", ["1999\t239549", "2000\t251854"])
    return folder


@pytest.fixture
def other_database(pg_server: EmbeddedPostgres) -> Iterator[str]:
    """A second fresh, migrated database, to compare two loads side by side."""
    name = postgres.new_database(pg_server)
    yield pg_server.url(name)
    postgres.drop_database(pg_server, name)
