"""Helpers for the ingest tests: small station files written from strings, table reads."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest

from command.postgres_server import EmbeddedPostgres
from tests.harness import postgres


def station_lines(start: date, days: int, *, seed: int = 0) -> list[str]:
    """``days`` well-formed station-file lines from ``start``, values varying with ``seed``."""
    out = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        tmax = (offset * 7 + seed) % 400 - 100
        tmin = tmax - 50 - (offset + seed) % 30
        prcp = (offset * 13 + seed) % 90 if offset % 3 else 0
        out.append(f"{day:%Y%m%d}\t{tmax:5d}\t{tmin:5d}\t{prcp:5d}")
    return out


def write(folder: Path, name: str, lines: Iterable[str], *, newline: str = "\n") -> Path:
    """Write a text file from lines and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes("".join(line + newline for line in lines).encode())
    return path


def rows(url: str, query: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Every row of a query against the test database."""
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def one(url: str, query: str, params: tuple[object, ...] = ()) -> object:
    """The single value of a query."""
    (row,) = rows(url, query, params)
    return row[0]


_DIGESTS = {
    "observation": ("station_id, obs_date, tmax_tenths_c, tmin_tenths_c, prcp_tenths_mm",
                    "station_id, obs_date"),
    "weather_stats": ("station_id, year, avg_max_temp_c, avg_min_temp_c, total_precip_cm, "
                      "max_temp_days, min_temp_days, precip_days", "station_id, year"),
    "monthly_stats": ("station_id, year, month, avg_max_temp_c, avg_min_temp_c, total_precip_cm, "
                      "max_temp_days, min_temp_days, precip_days", "station_id, year, month"),
    "station": ("station_id, name, first_date, last_date, observation_count", "station_id"),
    "crop_yield": ("year, corn_yield_kt", "year"),
}  # fmt: skip


def table_digest(url: str) -> dict[str, tuple[object, ...]]:
    """The content of every data table (md5 of the rows in key order, and the count)."""
    digest = {}
    for table, (columns, order) in _DIGESTS.items():
        aggregate = f"string_agg(({columns})::text, '|' ORDER BY {order})"
        query = f"SELECT md5({aggregate}), count(*) FROM {table}"
        digest[table] = rows(url, query)[0]
    return digest


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
