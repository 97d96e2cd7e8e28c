"""Yearly statistics on real data, checked against a plain-Python computation of the file."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from ingest_job.run import ingest
from tests.harness.postgres import rows
from warehouse.settings import Settings

# (file, year): includes years where one figure has no value at all.
CASES = [
    ("USC00110072", 1985),  # the issue's example
    ("USC00110072", 2014),
    ("USC00112348", 2012),  # no precipitation all year
    ("USC00115326", 2001),  # no temperatures all year
    ("USC00254900", 1990),
]


def expected(path: Path, year: int) -> tuple[object, ...]:
    """Average max/min in degC (6 places), total precipitation in cm (2 places), day counts."""
    columns: list[list[int]] = [[], [], []]
    for line in path.read_text().splitlines():
        day, *values = (field.strip() for field in line.split("\t"))
        if int(day[:4]) != year:
            continue
        for column, value in zip(columns, values, strict=True):
            if value != "-9999":
                column.append(int(value))
    tmax, tmin, prcp = columns

    def average(values: list[int]) -> Decimal | None:
        if not values:
            return None
        mean = Decimal(sum(values)) / Decimal(len(values)) / 10
        return mean.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)

    total = (Decimal(sum(prcp)) / 100).quantize(Decimal("0.01")) if prcp else None
    return average(tmax), average(tmin), total, len(tmax), len(tmin), len(prcp)


def station_files(real_data: Path) -> list[str]:
    return [str(real_data / "wx_data" / f"{station}.txt") for station in sorted(dict(CASES))]


@pytest.fixture
def loaded(settings: Settings, real_data: Path) -> Settings:
    report = ingest(settings, station_files(real_data))
    assert report.files_loaded == len(dict(CASES))
    return settings


@pytest.mark.parametrize(("station", "year"), CASES)
def test_yearly_figures_match_an_independent_computation(
    loaded: Settings, real_data: Path, station: str, year: int
) -> None:
    url = loaded.database_url.get_secret_value()  # type: ignore[union-attr]
    (stored,) = rows(
        url,
        """SELECT avg_max_temp_c, avg_min_temp_c, total_precip_cm,
                  max_temp_days, min_temp_days, precip_days
           FROM weather_stats WHERE station_id = %s AND year = %s""",
        (station, year),
    )
    assert stored == expected(real_data / "wx_data" / f"{station}.txt", year)


def test_the_issue_example_figures(loaded: Settings) -> None:
    url = loaded.database_url.get_secret_value()  # type: ignore[union-attr]
    assert rows(
        url,
        """SELECT avg_max_temp_c, avg_min_temp_c, total_precip_cm FROM weather_stats
           WHERE station_id = 'USC00110072' AND year = 1985""",
    ) == [(Decimal("15.334795"), Decimal("4.326446"), Decimal("78.01"))]


def test_recompute_all_gives_the_same_figures(loaded: Settings, real_data: Path) -> None:
    url = loaded.database_url.get_secret_value()  # type: ignore[union-attr]
    query = "SELECT * FROM weather_stats ORDER BY station_id, year"
    before = [row[:-1] for row in rows(url, query)]
    report = ingest(loaded, station_files(real_data), recompute_stats=True)
    assert report.files_skipped == len(dict(CASES))
    assert report.station_years_recomputed == len(before)
    assert [row[:-1] for row in rows(url, query)] == before
