"""``/api/weather/stats``, ``/api/yield`` and ``/api/stations``."""

from __future__ import annotations

from datetime import date

import pytest
from starlette.testclient import TestClient

from tests.api.loaded import STATIONS
from tests.api.test_weather import all_pages
from tests.harness import postgres


def test_stats_rows_are_the_stored_statistics_rounded(client: TestClient, loaded_url: str) -> None:
    stored = postgres.rows(
        loaded_url,
        "SELECT avg_max_temp_c, avg_min_temp_c, total_precip_cm, max_temp_days,"
        " min_temp_days, precip_days FROM weather_stats WHERE station_id = %s AND year = 1990",
        (STATIONS[0],),
    )[0]
    params = {"station_id": STATIONS[0], "year": 1990}
    (row,) = client.get("/api/weather/stats", params=params).json()["data"]
    assert row == {
        "station_id": STATIONS[0],
        "year": 1990,
        "avg_max_temp_c": round(float(stored[0]), 6),
        "avg_min_temp_c": round(float(stored[1]), 6),
        "total_precip_cm": round(float(stored[2]), 2),
        "max_temp_days": stored[3],
        "min_temp_days": stored[4],
        "precip_days": stored[5],
    }


def test_stats_match_the_reference_figures_of_the_real_data(client: TestClient) -> None:
    params = {"station_id": "USC00110072", "year": 1985}
    (row,) = client.get("/api/weather/stats", params=params).json()["data"]
    assert (row["avg_max_temp_c"], row["avg_min_temp_c"], row["total_precip_cm"]) == (
        15.334795,
        4.326446,
        78.01,
    )


def test_stats_imperial_converts_averages_and_totals(client: TestClient) -> None:
    params = {"station_id": STATIONS[0], "year": 1990}
    m = client.get("/api/weather/stats", params=params).json()["data"][0]
    i = client.get("/api/weather/stats", params={**params, "units": "imperial"}).json()["data"][0]
    assert i["avg_max_temp_f"] == pytest.approx(m["avg_max_temp_c"] * 1.8 + 32, abs=1e-5)
    assert i["total_precip_in"] == pytest.approx(m["total_precip_cm"] / 2.54, abs=0.001)
    assert "avg_max_temp_c" not in i


def test_stats_year_range_and_station_filters(client: TestClient) -> None:
    rows = all_pages(
        client,
        f"/api/weather/stats?station_id={STATIONS[0]}&station_id={STATIONS[2]}"
        "&start_year=1988&end_year=1992&limit=3",
    )
    keys = [(r["station_id"], r["year"]) for r in rows]
    # The third station stops in 1990.
    expected = [(STATIONS[0], y) for y in range(1988, 1993)] + [
        (STATIONS[2], y) for y in range(1988, 1991)
    ]
    assert keys == expected


def test_stats_every_station_year_once_across_pages(client: TestClient, loaded_url: str) -> None:
    expected = postgres.rows(loaded_url, "SELECT station_id, year FROM weather_stats ORDER BY 1, 2")
    rows = all_pages(client, "/api/weather/stats?limit=11")
    assert [(r["station_id"], r["year"]) for r in rows] == expected


def test_year_and_year_range_together_are_refused(client: TestClient) -> None:
    response = client.get("/api/weather/stats", params={"year": 1990, "start_year": 1989})
    assert response.status_code == 400
    assert response.json()["errors"][0]["parameter"] == "start_year"


def test_yield_range(client: TestClient, loaded_url: str) -> None:
    expected = postgres.rows(
        loaded_url, "SELECT year, corn_yield_kt FROM crop_yield WHERE year BETWEEN 1990 AND 1995"
    )
    rows = client.get("/api/yield", params={"start_year": 1990, "end_year": 1995}).json()["data"]
    assert [(r["year"], r["corn_yield_kt"]) for r in rows] == expected


def test_yield_imperial_is_in_thousands_of_bushels(client: TestClient) -> None:
    params = {"start_year": 1985, "end_year": 1985, "units": "imperial"}
    (row,) = client.get("/api/yield", params=params).json()["data"]
    # 225,447 thousand metric tons of corn = 8.875 billion bushels of 56 lb.
    assert row == {"year": 1985, "corn_yield_thousand_bu": 8_875_458}


def test_yield_csv(client: TestClient) -> None:
    text = client.get("/api/yield", params={"end_year": 1986, "format": "csv"}).text
    assert text.splitlines() == ["year,corn_yield_kt", "1985,225447", "1986,208944"]


def test_stations_list_the_span_of_their_data(client: TestClient, loaded_url: str) -> None:
    body = client.get("/api/stations").json()
    assert [s["station_id"] for s in body["data"]] == sorted(STATIONS)
    last = {s["station_id"]: s for s in body["data"]}[STATIONS[2]]
    ((first_date, last_date, count),) = postgres.rows(
        loaded_url,
        "SELECT min(obs_date), max(obs_date), count(*) FROM observation WHERE station_id = %s",
        (STATIONS[2],),
    )
    assert (last["first_date"], last["last_date"], last["observation_count"]) == (
        str(first_date),
        str(last_date),
        count,
    )


def test_stations_paginate(client: TestClient) -> None:
    rows = all_pages(client, "/api/stations?limit=2")
    assert [s["station_id"] for s in rows] == sorted(STATIONS)


def test_one_station(client: TestClient) -> None:
    response = client.get(f"/api/stations/{STATIONS[2]}")
    assert response.status_code == 200
    body = response.json()
    assert body["station_id"] == STATIONS[2]
    assert body["units"] == "metric"
    assert date.fromisoformat(body["last_date"]) < date(1991, 1, 1)


def test_unknown_station_is_a_404_problem(client: TestClient) -> None:
    for station in ("USC99999999", "not-a-station"):
        response = client.get(f"/api/stations/{station}")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert station in response.json()["detail"]
