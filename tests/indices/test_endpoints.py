"""``/api/weather/indices`` and ``/api/yield/indices``: filters, units, the yield view's means."""

from __future__ import annotations

import csv
import io
from datetime import date
from statistics import fmean
from typing import Any

from starlette.testclient import TestClient

STATIONS = ("USC00110072", "USC00110187")
DAY_COUNTS = {"tx_days", "tn_days", "dtr_days", "pr_days", "gdd_days", "season_pr_days"}


def _data(client: TestClient, path: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get(path, params={"limit": 1000, **params})
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def test_index_keeps_only_the_named_indices(all_stations: TestClient) -> None:
    (row,) = _data(
        all_stations, "/api/weather/indices", station_id=STATIONS[0], year=1990,
        index=["txx", "cdd"],
    )  # fmt: skip
    assert set(row) == {"station_id", "year", "txx", "cdd", *DAY_COUNTS}


def test_index_keeps_only_the_named_columns_of_the_csv(all_stations: TestClient) -> None:
    response = all_stations.get(
        "/api/weather/indices",
        params={"station_id": STATIONS[0], "year": 1990, "index": "gdd", "format": "csv"},
    )
    header, *lines = list(csv.reader(io.StringIO(response.text)))
    assert header == ["station_id", "year", "gdd", *sorted(DAY_COUNTS, key=_day_order)]
    assert len(lines) == 1


def _day_order(name: str) -> int:
    return ["tx_days", "tn_days", "dtr_days", "pr_days", "gdd_days", "season_pr_days"].index(name)


def test_imperial_converts_temperatures_differences_and_precipitation(
    all_stations: TestClient,
) -> None:
    query = {"station_id": STATIONS[0], "year": 1990}
    (metric,) = _data(all_stations, "/api/weather/indices", **query)
    (imperial,) = _data(all_stations, "/api/weather/indices", units="imperial", **query)
    assert imperial["txx"] == round(metric["txx"] * 1.8 + 32, 6)
    assert imperial["dtr"] == round(metric["dtr"] * 1.8, 6)
    assert imperial["gdd"] == round(metric["gdd"] * 1.8, 6)
    assert imperial["prcptot"] == round(metric["prcptot"] / 25.4, 6)
    assert (imperial["fd"], imperial["cdd"]) == (metric["fd"], metric["cdd"])


def test_the_yield_view_puts_each_index_mean_beside_the_yield(all_stations: TestClient) -> None:
    years = {"start_year": 1990, "end_year": 1991}
    station_rows = _data(all_stations, "/api/weather/indices", station_id=STATIONS, **years)
    view = _data(all_stations, "/api/yield/indices", station_id=STATIONS, **years)
    yields = {row["year"]: row["corn_yield_kt"] for row in _data(all_stations, "/api/yield")}
    assert [row["year"] for row in view] == [1990, 1991]
    for row in view:
        mine = [r for r in station_rows if r["year"] == row["year"]]
        assert row["corn_yield_kt"] == yields[row["year"]]
        assert row["stations"] == len(mine)
        for name in ("gdd", "cdd", "txx"):
            values = [r[name] for r in mine if r[name] is not None]
            assert abs(row[name] - fmean(values)) < 1e-9


def test_the_yield_view_gives_frost_dates_as_mean_day_of_year(all_stations: TestClient) -> None:
    (row,) = _data(
        all_stations, "/api/yield/indices", station_id=STATIONS[0], year=1990,
        index="last_spring_frost",
    )  # fmt: skip
    (station,) = _data(all_stations, "/api/weather/indices", station_id=STATIONS[0], year=1990)
    month, day = (int(part) for part in station["last_spring_frost"][5:].split("-"))
    assert row["last_spring_frost_doy"] == date(1990, month, day).timetuple().tm_yday
    assert set(row) == {"year", "corn_yield_kt", "stations", "last_spring_frost_doy"}


def test_an_unknown_index_is_a_400_naming_it(all_stations: TestClient) -> None:
    response = all_stations.get("/api/weather/indices", params={"index": "gdd10"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["parameter"] == "index"
