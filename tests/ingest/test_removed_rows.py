"""Rows removed outside the job (TRUNCATE, DELETE): derived data and the ledger follow them.

Every test goes through the real command and a real PostgreSQL; the final
state is compared with a clean load of the same files into a fresh database.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import psycopg

from tests import cli
from tests.harness.postgres import one, rows
from tests.ingest.station_files import station_lines, write
from tests.ingest.tables import table_digest

STATIONS = ("USC00000001", "USC00000002", "USC00000003")

# A station row whose derived figures disagree with the observations it counts.
DISAGREEING = """
SELECT s.station_id, s.observation_count, s.first_date, s.last_date, t.n, t.first, t.last
FROM station s
LEFT JOIN (SELECT station_id, count(*) AS n, min(obs_date) AS first, max(obs_date) AS last
           FROM observation GROUP BY station_id) t USING (station_id)
WHERE (s.observation_count, s.first_date, s.last_date)
      IS DISTINCT FROM (coalesce(t.n, 0), t.first, t.last)
"""


def ingest(url: str, *sources: Path) -> None:
    args = [arg for source in sources for arg in ("--source", str(source))]
    done = cli.run("ingest", *args, env={"DATABASE_URL": url})
    assert done.returncode == 0, done.stderr


def execute(url: str, statement: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement)


def assert_as_a_clean_load(url: str, fresh_url: str, *sources: Path) -> None:
    """Every table of ``url`` holds what loading ``sources`` into a fresh database gives."""
    assert rows(url, DISAGREEING) == []
    ingest(fresh_url, *sources)
    assert table_digest(url) == table_digest(fresh_url)


def one_station_folder(wx_folder: Path, tmp_path: Path) -> Path:
    """Folder B: a copy of one of folder A's station files."""
    folder = tmp_path / "b"
    folder.mkdir()
    shutil.copy(wx_folder / f"{STATIONS[0]}.txt", folder)
    return folder


def test_station_counts_equal_the_rows_after_truncate_and_reload_of_one_file(
    database_url: str, other_database: str, wx_folder: Path
) -> None:
    station_file = wx_folder / f"{STATIONS[0]}.txt"
    ingest(database_url, station_file)
    execute(database_url, "TRUNCATE observation")
    ingest(database_url, station_file)

    assert rows(database_url, DISAGREEING) == []
    assert one(database_url, "SELECT observation_count FROM station") == 62
    assert_as_a_clean_load(database_url, other_database, station_file)


def test_truncate_resets_the_derived_figures_at_once(database_url: str, wx_folder: Path) -> None:
    ingest(database_url, wx_folder)
    execute(database_url, "TRUNCATE observation")

    assert rows(database_url, DISAGREEING) == []
    assert one(database_url, "SELECT count(*) FROM weather_stats") == 0
    assert one(database_url, "SELECT count(*) FROM monthly_stats") == 0


def test_a_reload_in_two_parts_after_truncate_loads_every_station_again(
    database_url: str, other_database: str, wx_folder: Path, tmp_path: Path
) -> None:
    part_b = one_station_folder(wx_folder, tmp_path)
    ingest(database_url, wx_folder)
    execute(database_url, "TRUNCATE observation")
    ingest(database_url, part_b)
    ingest(database_url, wx_folder)

    per_station = dict(
        rows(database_url, "SELECT station_id, count(*) FROM observation GROUP BY 1")
    )
    assert per_station == dict.fromkeys(STATIONS, 62)
    assert rows(database_url, DISAGREEING) == []
    assert_as_a_clean_load(database_url, other_database, wx_folder)


def test_deleted_rows_of_a_station_are_loaded_again_by_the_next_run(
    database_url: str, other_database: str, wx_folder: Path
) -> None:
    ingest(database_url, wx_folder)
    execute(database_url, f"DELETE FROM observation WHERE station_id = '{STATIONS[1]}'")
    assert rows(database_url, DISAGREEING) == []

    ingest(database_url, wx_folder)

    assert (
        one(database_url, f"SELECT count(*) FROM observation WHERE station_id = '{STATIONS[1]}'")
        == 62
    )
    assert_as_a_clean_load(database_url, other_database, wx_folder)


def test_a_year_deleted_from_a_station_is_loaded_again_with_exact_statistics(
    database_url: str, other_database: str, wx_folder: Path
) -> None:
    ingest(database_url, wx_folder)
    execute(
        database_url,
        f"DELETE FROM observation WHERE station_id = '{STATIONS[2]}' AND obs_date >= '2000-01-01'",
    )
    # The figures follow at once: no statistics for a year whose rows are gone.
    assert rows(database_url, DISAGREEING) == []
    assert rows(
        database_url,
        f"SELECT year FROM weather_stats WHERE station_id = '{STATIONS[2]}' ORDER BY year",
    ) == [(1999,)]

    ingest(database_url, wx_folder)

    assert_as_a_clean_load(database_url, other_database, wx_folder)


def test_statistics_of_a_partly_deleted_year_are_recomputed_by_the_next_run_of_any_source(
    database_url: str, other_database: str, wx_folder: Path, tmp_path: Path
) -> None:
    ingest(database_url, wx_folder)
    execute(
        database_url,
        f"DELETE FROM observation WHERE station_id = '{STATIONS[0]}' AND obs_date >= '2000-01-15'",
    )
    unrelated = write(tmp_path / "yield", "US_corn_grain_yield.txt", ["2001\t241377"])

    ingest(database_url, unrelated)

    # The reference: the rows that are left, loaded into a fresh database.
    left = write(tmp_path / "left", f"{STATIONS[0]}.txt", station_lines(date(1999, 12, 1), 45))
    ingest(other_database, left)
    figures = "avg_max_temp_c, avg_min_temp_c, total_precip_cm, max_temp_days, min_temp_days"
    for query in (
        f"SELECT year, {figures} FROM weather_stats WHERE station_id = %s ORDER BY 1",
        f"SELECT year, month, {figures} FROM monthly_stats WHERE station_id = %s ORDER BY 1, 2",
    ):
        assert rows(database_url, query, (STATIONS[0],)) == rows(
            other_database, query, (STATIONS[0],)
        )
    assert rows(database_url, DISAGREEING) == []
