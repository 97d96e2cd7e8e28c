"""Every index of every station-year of the shipped data equals xclim's (docs/indices.md).

The reference is xclim's yearly indicators over the station files as they
ship (tests/indices/reference.py); the answer under test is the API's
``/api/weather/indices`` over the same files loaded by the ingest job. Counts
and dates are equal, the rest within 1e-6, nulls in the same places.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.indices import reference
from tests.indices.reference import DATES, INDICATORS, SEASON_INDICATORS

TOLERANCE = 1e-6
EXACT = {"fd", "su", "id", "tr", "r10mm", "r20mm", "cdd", "cwd", *DATES}
Served = dict[tuple[str, int], dict[str, object]]


@pytest.fixture(scope="module")
def inputs(real_data: Path) -> reference.Inputs:
    return reference.read_stations(real_data / "wx_data")


@pytest.fixture(scope="module")
def served(all_stations: TestClient) -> Served:
    """Every row of /api/weather/indices, by station and year."""
    response = all_stations.get("/api/weather/indices", params={"format": "ndjson"})
    assert response.status_code == 200, response.text
    rows = [json.loads(line) for line in response.text.splitlines()]
    return {(row["station_id"], row["year"]): row for row in rows}


def test_every_station_year_with_days_has_a_row(served: Served, inputs: reference.Inputs) -> None:
    present = inputs["tasmax"].notnull() | inputs["tasmin"].notnull() | inputs["pr"].notnull()
    by_year = present.groupby("time.year").any()
    expected = {(str(station), int(year)) for station, year in zip(*_where(by_year), strict=True)}
    assert set(served) == expected


def _where(flags: object) -> tuple[list[object], list[object]]:
    stations, years = [], []
    for i, station in enumerate(flags["station"].values):  # type: ignore[index]
        for j, year in enumerate(flags["year"].values):  # type: ignore[index]
            if flags.values[i, j]:  # type: ignore[attr-defined]
                stations.append(station)
                years.append(year)
    return stations, years


@pytest.mark.parametrize("name", [*INDICATORS, *SEASON_INDICATORS])
def test_index_equals_xclim(name: str, served: Served, inputs: reference.Inputs) -> None:
    expected = reference.compute(name, inputs)
    wrong = []
    for key, row in served.items():
        got, want = row[name], expected[key]
        if isinstance(got, str):
            got = date.fromisoformat(got)
        if not _same(name, got, want):
            wrong.append((key, got, want))
    assert not wrong, f"{len(wrong)} of {len(served)} differ, e.g. {wrong[:5]}"


def _same(name: str, got: object, want: float | date | None) -> bool:
    if got is None or want is None:
        return got is None and want is None
    if name in EXACT:
        return got == want
    assert isinstance(got, float | int)
    assert isinstance(want, float)
    return abs(got - want) <= TOLERANCE
