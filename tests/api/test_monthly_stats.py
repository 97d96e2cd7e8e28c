"""``/api/weather/stats/monthly``: every station-month of the real files, exactly, in every form."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.api.loaded import STATIONS
from tests.api.test_weather import all_pages
from tests.ingest.test_monthly_statistics import expected_months

PATH = "/api/weather/stats/monthly"


def _as_api(row: tuple[object, ...]) -> dict[str, object]:
    station, year, month, tmax, tmin, prcp, *days = row
    figures = [None if value is None else float(str(value)) for value in (tmax, tmin, prcp)]
    return {
        "station_id": station,
        "year": year,
        "month": month,
        "avg_max_temp_c": figures[0],
        "avg_min_temp_c": figures[1],
        "total_precip_cm": figures[2],
        "max_temp_days": days[0],
        "min_temp_days": days[1],
        "precip_days": days[2],
    }


@pytest.fixture(scope="module")
def expected(real_data: Path) -> list[dict[str, object]]:
    files = [real_data / "wx_data" / f"{station}.txt" for station in STATIONS]
    return [_as_api(row) for row in expected_months(files)]


def test_every_station_month_matches_an_independent_computation(
    client: TestClient, expected: list[dict[str, object]]
) -> None:
    assert all_pages(client, f"{PATH}?limit=1000") == expected


def test_month_and_year_range_filters(
    client: TestClient, expected: list[dict[str, object]]
) -> None:
    url = f"{PATH}?station_id={STATIONS[2]}&station_id={STATIONS[0]}&start_year=1989&end_year=1991"
    rows = all_pages(client, f"{url}&month=7&limit=2")
    assert rows == [
        r
        for r in expected
        if r["station_id"] in (STATIONS[0], STATIONS[2])
        and 1989 <= int(str(r["year"])) <= 1991
        and r["month"] == 7
    ]
    # The third station stops in 1990.
    assert [(r["station_id"], r["year"]) for r in rows] == [
        (STATIONS[0], 1989), (STATIONS[0], 1990), (STATIONS[0], 1991),
        (STATIONS[2], 1989), (STATIONS[2], 1990),
    ]  # fmt: skip


def test_one_year_gives_its_twelve_months(client: TestClient) -> None:
    body = client.get(PATH, params={"station_id": STATIONS[0], "year": 1985}).json()
    assert [r["month"] for r in body["data"]] == list(range(1, 13))


def test_imperial_converts_the_monthly_figures(client: TestClient) -> None:
    params = {"station_id": STATIONS[0], "year": 1990, "month": 3}
    (m,) = client.get(PATH, params=params).json()["data"]
    (i,) = client.get(PATH, params={**params, "units": "imperial"}).json()["data"]
    assert i["avg_max_temp_f"] == pytest.approx(m["avg_max_temp_c"] * 1.8 + 32, abs=1e-6)
    assert i["avg_min_temp_f"] == pytest.approx(m["avg_min_temp_c"] * 1.8 + 32, abs=1e-6)
    assert i["total_precip_in"] == pytest.approx(m["total_precip_cm"] / 2.54, abs=0.0005)
    assert set(i) - set(m) == {"avg_max_temp_f", "avg_min_temp_f", "total_precip_in"}


def test_csv_holds_the_same_rows(client: TestClient, expected: list[dict[str, object]]) -> None:
    response = client.get(PATH, params={"station_id": STATIONS[1], "format": "csv"})
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    wanted = [r for r in expected if r["station_id"] == STATIONS[1]]
    assert len(rows) == len(wanted)
    for got, want in zip(rows, wanted, strict=True):
        assert got == {k: "" if v is None else str(v) for k, v in want.items()}


def test_a_cursor_is_bound_to_the_month_filter(client: TestClient) -> None:
    first = client.get(PATH, params={"month": 7, "limit": 2}).json()
    response = client.get(PATH, params={"month": 8, "limit": 2, "cursor": first["next_cursor"]})
    assert response.status_code == 400
    assert response.json()["errors"][0]["parameter"] == "cursor"


def test_a_month_out_of_range_is_a_400_naming_it(client: TestClient) -> None:
    response = client.get(PATH, params={"month": 13})
    assert response.status_code == 400
    assert response.json()["errors"][0]["parameter"] == "month"
