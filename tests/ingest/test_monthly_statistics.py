"""Monthly statistics: exact against a plain-Python computation of the real files, and kept
current for the touched station-months only."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import psycopg
import pytest

from ingest_job.run import ingest
from tests.harness.postgres import rows
from tests.ingest.station_files import station_lines, write
from warehouse import migrate
from warehouse.settings import Settings

# Real files with months lacking one figure entirely (see test_statistics.py).
STATIONS = ("USC00110072", "USC00112348", "USC00115326", "USC00254900")
MonthKey = tuple[str, int, int]
_QUERY = """SELECT station_id, year, month, avg_max_temp_c, avg_min_temp_c, total_precip_cm,
                   max_temp_days, min_temp_days, precip_days
            FROM monthly_stats ORDER BY station_id, year, month"""


def _average(values: list[int]) -> Decimal | None:
    if not values:
        return None
    mean = Decimal(sum(values)) / Decimal(len(values)) / 10
    return mean.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def expected_months(paths: list[Path]) -> list[tuple[object, ...]]:
    """Every station-month of the files: averages in degC (6 places), cm (2 places), counts."""
    columns: dict[MonthKey, list[list[int]]] = defaultdict(lambda: [[], [], []])
    for path in paths:
        for line in path.read_text().splitlines():
            day, *values = (field.strip() for field in line.split("\t"))
            figures = columns[(path.stem, int(day[:4]), int(day[4:6]))]
            for column, value in zip(figures, values, strict=True):
                if value != "-9999":
                    column.append(int(value))
    out: list[tuple[object, ...]] = []
    for key in sorted(columns):
        tmax, tmin, prcp = columns[key]
        total = (Decimal(sum(prcp)) / 100).quantize(Decimal("0.01")) if prcp else None
        out.append((*key, _average(tmax), _average(tmin), total, len(tmax), len(tmin), len(prcp)))
    return out


def _url(settings: Settings) -> str:
    return settings.database_url.get_secret_value()  # type: ignore[union-attr]


def _files(real_data: Path) -> list[Path]:
    return [real_data / "wx_data" / f"{station}.txt" for station in STATIONS]


def test_every_station_month_of_a_first_load_matches_an_independent_computation(
    settings: Settings, real_data: Path
) -> None:
    # Several files into an empty table: the bulk path.
    report = ingest(settings, [str(p) for p in _files(real_data)])
    assert report.files_loaded == len(STATIONS)
    stored = rows(_url(settings), _QUERY)
    assert stored == expected_months(_files(real_data))
    # Months with no value at all for a figure exist and are NULL, not zero.
    assert any(row[5] is None and row[8] == 0 for row in stored)
    assert any(row[3] is None and row[6] == 0 for row in stored)


def test_files_merged_one_by_one_give_the_same_months(settings: Settings, real_data: Path) -> None:
    for path in _files(real_data):  # one file per run: the merge path
        assert ingest(settings, [str(path)]).files_loaded == 1
    assert rows(_url(settings), _QUERY) == expected_months(_files(real_data))


def test_a_changed_day_recomputes_only_its_station_month(
    settings: Settings, tmp_path: Path
) -> None:
    url = _url(settings)
    lines = station_lines(date(2000, 1, 1), 90)
    for station in ("USC00000001", "USC00000002"):
        write(tmp_path / "wx", f"{station}.txt", lines)
    assert ingest(settings, [str(tmp_path / "wx")]).files_loaded == 2
    stamps = "SELECT station_id, year, month, computed_at FROM monthly_stats ORDER BY 1, 2, 3"
    before = rows(url, stamps)
    changed = list(lines)
    changed[40] = changed[40][:8] + "\t  350\t  100\t  777"  # 2000-02-10
    path = write(tmp_path / "wx", "USC00000002.txt", changed)
    assert ingest(settings, [str(tmp_path / "wx")]).files_loaded == 1
    after = rows(url, stamps)
    recomputed = [a[:3] for a, b in zip(after, before, strict=True) if a[3] != b[3]]
    assert recomputed == [("USC00000002", 2000, 2)]
    assert rows(url, _QUERY) == expected_months([tmp_path / "wx" / "USC00000001.txt", path])


def test_recompute_stats_gives_the_same_months(settings: Settings, real_data: Path) -> None:
    files = [str(p) for p in _files(real_data)]
    ingest(settings, files)
    url = _url(settings)
    with psycopg.connect(url) as conn:  # a stale row the recomputation must drop
        conn.execute(
            "INSERT INTO monthly_stats (station_id, year, month, max_temp_days, min_temp_days,"
            " precip_days) VALUES ('USC00999999', 1999, 1, 0, 0, 0)"
        )
    report = ingest(settings, files, recompute_stats=True)
    assert report.files_skipped == len(STATIONS)
    assert rows(url, _QUERY) == expected_months(_files(real_data))


@pytest.fixture
def database_before_0003(empty_database_url: str) -> str:
    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        conn.execute(migrate._CREATE_LEDGER)
        for migration in migrate.available():
            if migration.version < 3:
                migrate._apply(conn, migration)
    return empty_database_url


def test_migration_0003_computes_the_months_of_existing_observations(
    database_before_0003: str, tmp_path: Path
) -> None:
    path = write(tmp_path, "USC00000001.txt", station_lines(date(1999, 12, 20), 45))
    copy_sql = (
        "COPY observation (station_id, obs_date, tmax_tenths_c, tmin_tenths_c, prcp_tenths_mm)"
        " FROM STDIN"
    )
    with psycopg.connect(database_before_0003) as conn, conn.cursor().copy(copy_sql) as copy:
        for line in path.read_text().splitlines():
            day, *values = line.split("\t")
            copy.write_row(("USC00000001", date.fromisoformat(day), *map(int, values)))
    with psycopg.connect(database_before_0003, autocommit=True) as conn:
        assert [m.version for m in migrate.migrate(conn)] == [
            m.version for m in migrate.available() if m.version >= 3
        ]
    assert rows(database_before_0003, _QUERY) == expected_months([path])


def test_days_added_to_a_station_add_its_new_month_and_update_the_touched_one(
    settings: Settings, tmp_path: Path
) -> None:
    url = _url(settings)
    lines = station_lines(date(2000, 1, 1), 45)  # January and half of February
    path = write(tmp_path / "wx", "USC00000001.txt", lines)
    ingest(settings, [str(path)])
    january = rows(url, "SELECT computed_at FROM monthly_stats WHERE month = 1")
    longer = write(tmp_path / "wx", "USC00000001.txt", station_lines(date(2000, 1, 1), 70))
    report = ingest(settings, [str(longer)])
    assert (report.rows_inserted, report.rows_updated) == (25, 0)
    assert rows(url, "SELECT computed_at FROM monthly_stats WHERE month = 1") == january
    assert rows(url, _QUERY) == expected_months([longer])
    assert [r[2] for r in rows(url, _QUERY)] == [1, 2, 3]
