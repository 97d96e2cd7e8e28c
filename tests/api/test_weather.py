"""``GET /api/weather``: filters, units, pagination, CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from starlette.testclient import TestClient

from tests.api.loaded import STATIONS
from tests.harness import postgres

FIRST = STATIONS[0]


def all_pages(client: TestClient, url: str) -> list[dict[str, object]]:
    """Every row, following ``next`` until it is null."""
    rows: list[dict[str, object]] = []
    next_url: str | None = url
    while next_url:
        response = client.get(next_url)
        assert response.status_code == 200, response.text
        body = response.json()
        rows.extend(body["data"])
        next_url = body["next"]
    return rows


def test_rows_carry_values_converted_from_tenths(client: TestClient, loaded_url: str) -> None:
    stored = postgres.rows(
        loaded_url,
        "SELECT tmax_tenths_c, tmin_tenths_c, prcp_tenths_mm FROM observation"
        " WHERE station_id = %s AND obs_date = '1985-01-01'",
        (FIRST,),
    )[0]
    row = client.get("/api/weather", params={"station_id": FIRST, "limit": 1}).json()["data"][0]
    assert row == {
        "station_id": FIRST,
        "date": "1985-01-01",
        "max_temp_c": stored[0] / 10,
        "min_temp_c": stored[1] / 10,
        "precip_mm": stored[2] / 10,
    }


def test_missing_values_are_null(client: TestClient, loaded_url: str) -> None:
    (day,) = postgres.rows(
        loaded_url,
        "SELECT obs_date FROM observation WHERE station_id = %s AND tmax_tenths_c IS NULL"
        " ORDER BY obs_date LIMIT 1",
        (FIRST,),
    )[0]
    assert isinstance(day, date)
    params = {"station_id": FIRST, "start_date": day.isoformat(), "end_date": day.isoformat()}
    (row,) = client.get("/api/weather", params=params).json()["data"]
    assert row["max_temp_c"] is None


def test_imperial_units_rename_and_convert_the_fields(client: TestClient) -> None:
    params = {"station_id": FIRST, "limit": 1}
    metric = client.get("/api/weather", params=params).json()
    imperial = client.get("/api/weather", params={**params, "units": "imperial"}).json()
    assert (metric["units"], imperial["units"]) == ("metric", "imperial")
    m, i = metric["data"][0], imperial["data"][0]
    assert set(i) == {"station_id", "date", "max_temp_f", "min_temp_f", "precip_in"}
    assert i["max_temp_f"] == pytest.approx(m["max_temp_c"] * 9 / 5 + 32, abs=0.01)
    assert i["precip_in"] == pytest.approx(m["precip_mm"] / 25.4, abs=0.001)


def test_station_filter_takes_one_or_several_stations(client: TestClient) -> None:
    one = client.get("/api/weather", params={"station_id": STATIONS[2], "limit": 1000})
    assert {r["station_id"] for r in one.json()["data"]} == {STATIONS[2]}
    several = all_pages(
        client, f"/api/weather?station_id={STATIONS[1]}&station_id={STATIONS[2]}"
        "&start_date=1990-01-01&end_date=1990-01-31&limit=10"
    )  # fmt: skip
    assert {r["station_id"] for r in several} == {STATIONS[1], STATIONS[2]}
    assert len(several) == 62


def test_date_range_is_inclusive(client: TestClient) -> None:
    params = {"station_id": FIRST, "start_date": "2000-02-27", "end_date": "2000-03-01"}
    days = [r["date"] for r in client.get("/api/weather", params=params).json()["data"]]
    assert days == ["2000-02-27", "2000-02-28", "2000-02-29", "2000-03-01"]


def test_epoch_millisecond_range_selects_the_utc_days(client: TestClient) -> None:
    start = int(datetime(2000, 2, 27, 13, 0, tzinfo=UTC).timestamp() * 1000)
    end = int(datetime(2000, 3, 1, 23, 59, tzinfo=UTC).timestamp() * 1000)
    params: dict[str, str | int] = {"station_id": FIRST, "from": start, "to": end}
    days = [r["date"] for r in client.get("/api/weather", params=params).json()["data"]]
    assert days == ["2000-02-27", "2000-02-28", "2000-02-29", "2000-03-01"]


def test_pages_return_every_row_exactly_once(client: TestClient, loaded_url: str) -> None:
    expected = postgres.rows(
        loaded_url,
        "SELECT station_id, obs_date FROM observation WHERE obs_date BETWEEN %s AND %s"
        " ORDER BY station_id, obs_date",
        (date(1989, 12, 1), date(1990, 3, 31)),
    )
    # 7 does not divide the row count, and pages cross station boundaries.
    rows = all_pages(client, "/api/weather?start_date=1989-12-01&end_date=1990-03-31&limit=7")
    got = [(r["station_id"], date.fromisoformat(str(r["date"]))) for r in rows]
    assert got == expected


def test_next_page_is_in_the_body_and_the_link_header(client: TestClient) -> None:
    response = client.get("/api/weather", params={"station_id": FIRST, "limit": 2})
    body = response.json()
    assert body["next"] is not None
    assert response.headers["link"] == f'<{body["next"]}>; rel="next"'
    assert (body["limit"], body["count"]) == (2, 2)


def test_last_page_has_no_next(client: TestClient) -> None:
    params = {"station_id": FIRST, "start_date": "1990-01-01", "end_date": "1990-01-03"}
    response = client.get("/api/weather", params={**params, "limit": 3})
    assert response.json()["next"] is None
    assert "link" not in response.headers


def test_csv_carries_the_same_rows_as_json(client: TestClient) -> None:
    query = f"station_id={STATIONS[2]}&start_date=1989-06-01&end_date=1990-06-30"
    json_rows = all_pages(client, f"/api/weather?{query}&limit=100")
    response = client.get(f"/api/weather?{query}", headers={"Accept": "text/csv"})
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    csv_rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(csv_rows) == len(json_rows) > 300
    for c, j in zip(csv_rows, json_rows, strict=True):
        assert c["station_id"] == j["station_id"]
        assert c["date"] == j["date"]
        for field in ("max_temp_c", "min_temp_c", "precip_mm"):
            assert (float(c[field]) if c[field] else None) == j[field]


def test_format_parameter_wins_over_accept(client: TestClient) -> None:
    response = client.get(
        "/api/weather",
        params={"station_id": FIRST, "format": "csv", "end_date": "1985-01-02"},
        headers={"Accept": "application/json"},
    )
    assert response.text.splitlines() == [
        "station_id,date,max_temp_c,min_temp_c,precip_mm",
        *response.text.splitlines()[1:],
    ]
    assert len(response.text.splitlines()) == 3


def test_imperial_csv_names_the_imperial_fields(client: TestClient) -> None:
    params = {"station_id": FIRST, "format": "csv", "units": "imperial", "end_date": "1985-01-01"}
    header = client.get("/api/weather", params=params).text.splitlines()[0]
    assert header == "station_id,date,max_temp_f,min_temp_f,precip_in"


def test_csv_streams_across_chunks(client: TestClient, loaded_url: str) -> None:
    (count,) = postgres.rows(loaded_url, "SELECT count(*) FROM observation")[0]
    response = client.get("/api/weather", params={"format": "csv"})
    lines = response.text.splitlines()
    assert len(lines) - 1 == count > 20_000  # more than one chunk
    keys = [tuple(line.split(",")[:2]) for line in lines[1:]]
    assert keys == sorted(set(keys))
