"""The ingest job keeps the indices current: touched station-years only, the missing-day rule."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import psycopg

from ingest_job.run import ingest
from tests.harness.postgres import one, rows
from tests.ingest.station_files import station_lines, write
from warehouse.errors import ExitCode
from warehouse.settings import Settings

FIRST = date(1990, 1, 1)
DAYS = 3 * 365 + 1  # 1990-1992


def _load(settings: Settings, folder: Path) -> None:
    report = ingest(settings, [str(folder)])
    assert report.exit_code is ExitCode.OK, report


def _computed(url: str) -> dict[tuple[str, int], datetime]:
    found = rows(url, "SELECT station_id, year, computed_at FROM weather_indices")
    return {(str(s), int(str(y))): t for s, y, t in found}  # type: ignore[misc]


def _set(path: Path, day: date, *, column: int, value: int) -> None:
    """Rewrite one value of a station file (columns: 1 TX, 2 TN, 3 PR)."""
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        fields = line.split("\t")
        if fields[0] == f"{day:%Y%m%d}":
            fields[column] = f"{value:5d}"
            lines[i] = "\t".join(fields)
    path.write_text("".join(line + "\n" for line in lines))


def _two_stations(folder: Path) -> Path:
    write(folder, "USC00000002.txt", station_lines(FIRST, DAYS, seed=2))
    return write(folder, "USC00000001.txt", station_lines(FIRST, DAYS, seed=1))


def _recomputed(settings: Settings, folder: Path, url: str) -> set[tuple[str, int]]:
    before = _computed(url)
    _load(settings, folder)
    return {key for key, at in _computed(url).items() if at != before.get(key)}


def test_a_changed_day_recomputes_the_indices_of_its_station_year_only(
    settings: Settings, database_url: str, tmp_path: Path
) -> None:
    changed = _two_stations(tmp_path)
    _load(settings, tmp_path)
    _set(changed, date(1991, 6, 15), column=1, value=333)
    assert _recomputed(settings, tmp_path, database_url) == {("USC00000001", 1991)}


def test_a_changed_december_recomputes_the_next_year_too(
    settings: Settings, database_url: str, tmp_path: Path
) -> None:
    changed = _two_stations(tmp_path)
    _load(settings, tmp_path)
    _set(changed, date(1990, 12, 31), column=3, value=2000)
    recomputed = _recomputed(settings, tmp_path, database_url)
    assert recomputed == {("USC00000001", 1990), ("USC00000001", 1991)}


def test_the_last_days_of_december_count_in_the_next_years_rx5day(
    settings: Settings, database_url: str, tmp_path: Path
) -> None:
    changed = _two_stations(tmp_path)
    _load(settings, tmp_path)
    _set(changed, date(1990, 12, 31), column=3, value=2000)  # 200 mm on New Year's Eve
    _load(settings, tmp_path)
    query = "SELECT rx5day FROM weather_indices WHERE station_id = %s AND year = 1991"
    assert one(database_url, query, ("USC00000001",)) >= 200  # type: ignore[operator]


def test_more_than_15_missing_days_null_the_indices_of_that_variable(
    settings: Settings, database_url: str, tmp_path: Path
) -> None:
    for station, missing in (("USC00000015", 15), ("USC00000016", 16)):
        path = write(tmp_path, f"{station}.txt", station_lines(FIRST, 365, seed=3))
        for offset in range(missing):
            _set(path, date(1990, 3, 1 + offset), column=2, value=-9999)
    _load(settings, tmp_path)
    found = rows(database_url, "SELECT station_id, fd, tnn, dtr, su, tn_days FROM weather_indices")
    by_station = {str(row[0]): row[1:] for row in found}
    fd, tnn, dtr, su, tn_days = by_station["USC00000015"]
    assert None not in (fd, tnn, dtr, su)
    assert tn_days == 350
    fd, tnn, dtr, su, tn_days = by_station["USC00000016"]
    assert (fd, tnn, dtr) == (None, None, None)
    assert su is not None
    assert tn_days == 349


def test_deleted_rows_take_their_years_indices_until_the_next_run(
    settings: Settings, database_url: str, tmp_path: Path
) -> None:
    _two_stations(tmp_path)
    _load(settings, tmp_path)
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "DELETE FROM observation WHERE station_id = 'USC00000001'"
            " AND obs_date BETWEEN '1991-03-01' AND '1991-03-31'"
        )
    query = "SELECT tn_days FROM weather_indices WHERE station_id = 'USC00000001' AND year = 1991"
    assert rows(database_url, query) == []
    _load(settings, write(tmp_path / "other", "USC00000009.txt", station_lines(FIRST, 1)).parent)
    assert one(database_url, query) == 365 - 31  # from the rows left
