"""``/api/stations/search`` and ``/api/stations/nearest`` over an ingested GHCN inventory.

Nearest-first results are checked against a brute-force great-circle
computation in plain Python over every station, including points at the
antimeridian and the poles.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from starlette.testclient import TestClient

from command.postgres_server import EmbeddedPostgres
from ingest_job.run import ingest
from service.app import create_app
from tests.api.loaded import api_settings
from tests.api.stations_inventory import Station, random_stations, write_inventory
from tests.api.test_weather import all_pages
from tests.harness import postgres
from tests.ingest.station_files import station_lines, write
from warehouse.errors import ExitCode

KNOWN = [
    Station("USW00024233", 47.4444, -122.3139, "SEATTLE TACOMA INTL AP", "WA", 112.8),
    Station("USW00094290", 47.6872, -122.2553, "SEATTLE SAND PT WSFO", "WA", 18.3),
    Station("USC00457473", 47.6500, -122.3000, "SEATTLE URBAN SITE", "WA", 30.0),
    Station("USC00110072", 39.7833, -88.1667, "CAMARGO", "IL", 198.1),
    Station("USC00110187", 41.2000, -90.7500, "ALEDO", "IL", 221.0),
    Station("USC00369705", 41.2500, -75.8833, "WILKES-BARRE", "PA", 289.0),
    Station("FJ000091680", -17.7550, 177.4430, "NADI"),
    Station("USW00045715", 51.8833, -176.6500, "ADAK NAS", "AK", 4.0),
    Station("AYW00090001", -90.0000, 0.0000, "AMUNDSEN-SCOTT"),
]
# Observations only: never in the inventory, so no coordinates.
WITHOUT_COORDINATES = "USC00999001"


@dataclass(frozen=True)
class Loaded:
    client: TestClient
    stations: list[Station]


@pytest.fixture(scope="module")
def loaded(
    pg_server: EmbeddedPostgres, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Loaded]:
    name = postgres.new_database(pg_server)
    url = pg_server.url(name)
    folder = tmp_path_factory.mktemp("inventory")
    stations = KNOWN + random_stations(1500, seed=13)
    write_inventory(folder, stations)
    write(folder, f"{WITHOUT_COORDINATES}.txt", station_lines(date(2000, 1, 1), 10))
    assert ingest(api_settings(url), [str(folder)]).exit_code is ExitCode.OK
    with TestClient(create_app(api_settings(url)), raise_server_exceptions=False) as client:
        yield Loaded(client, stations)
    postgres.drop_database(pg_server, name)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on the mean Earth radius, written here independently of the app."""
    radius = 6371.0088
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    cos_angle = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return radius * math.acos(max(-1.0, min(1.0, cos_angle)))


def brute_force(stations: list[Station], lat: float, lon: float) -> list[tuple[str, float]]:
    found = [(haversine_km(lat, lon, s.latitude, s.longitude), s.station_id) for s in stations]
    return [(station_id, distance) for distance, station_id in sorted(found)]


def _ids(rows: list[dict[str, object]]) -> list[object]:
    return [r["station_id"] for r in rows]


def test_name_words_are_prefixes_in_any_case(loaded: Loaded) -> None:
    rows = all_pages(loaded.client, "/api/stations/search?q=seattle")
    assert _ids(rows) == ["USC00457473", "USW00024233", "USW00094290"]
    rows = all_pages(loaded.client, "/api/stations/search?q=Seattle%20tac")
    assert _ids(rows) == ["USW00024233"]
    assert _ids(all_pages(loaded.client, "/api/stations/search?q=barre")) == ["USC00369705"]


def test_an_id_prefix_finds_its_stations(loaded: Loaded) -> None:
    rows = all_pages(loaded.client, "/api/stations/search?q=usc001&limit=1")
    assert _ids(rows) == ["USC00110072", "USC00110187"]
    # '_' is a character of ids, not a wildcard.
    assert all_pages(loaded.client, "/api/stations/search?q=USC0011007_") == []


def test_a_station_without_coordinates_is_found_by_id_and_says_so(loaded: Loaded) -> None:
    (row,) = all_pages(loaded.client, f"/api/stations/search?q={WITHOUT_COORDINATES}")
    assert (row["latitude"], row["longitude"], row["observation_count"]) == (None, None, 10)


def test_a_station_without_coordinates_is_in_no_box_and_near_no_point(loaded: Loaded) -> None:
    everywhere = all_pages(loaded.client, "/api/stations/search?bbox=-180,-90,180,90&limit=1000")
    assert len(everywhere) == len(loaded.stations)
    assert WITHOUT_COORDINATES not in _ids(everywhere)
    nearest = all_pages(loaded.client, "/api/stations/nearest?lat=0&lon=0&limit=1000")
    assert sorted(_ids(nearest)) == sorted(s.station_id for s in loaded.stations)


def test_a_bounding_box_holds_exactly_its_stations(loaded: Loaded) -> None:
    rows = all_pages(loaded.client, "/api/stations/search?bbox=-125,45,-120,50")
    assert _ids(rows) == sorted(
        s.station_id
        for s in loaded.stations
        if -125 <= s.longitude <= -120 and 45 <= s.latitude <= 50
    )
    assert {"USW00024233", "USW00094290", "USC00457473"} <= set(_ids(rows))


def test_a_box_across_the_antimeridian(loaded: Loaded) -> None:
    rows = all_pages(loaded.client, "/api/stations/search?bbox=170,-30,-170,60&limit=500")
    expected = sorted(
        s.station_id
        for s in loaded.stations
        if (s.longitude >= 170 or s.longitude <= -170) and -30 <= s.latitude <= 60
    )
    assert _ids(rows) == expected
    assert {"FJ000091680", "USW00045715"} <= set(expected)


def test_name_and_box_together_must_both_match(loaded: Loaded) -> None:
    rows = all_pages(loaded.client, "/api/stations/search?q=seattle&bbox=-123,47.6,-122,48")
    assert _ids(rows) == ["USC00457473", "USW00094290"]


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        (47.6, -122.3),  # Seattle: the known stations first
        (52.0, 179.9),  # across the antimeridian from Adak
        (-89.9, 100.0),  # near the South Pole
        (89.99, -45.0),  # near the North Pole, no station close
        (0.0, 0.0),
    ],
)
def test_nearest_matches_a_brute_force_great_circle_ranking(
    loaded: Loaded, lat: float, lon: float
) -> None:
    expected = brute_force(loaded.stations, lat, lon)[:50]
    body = loaded.client.get("/api/stations/nearest", params={"lat": lat, "lon": lon, "limit": 50})
    rows = body.json()["data"]
    assert _ids(rows) == [station_id for station_id, _ in expected]
    for row, (_, distance) in zip(rows, expected, strict=True):
        assert row["distance_km"] == pytest.approx(distance, abs=0.0015)


def test_nearest_across_the_antimeridian_and_at_the_pole(loaded: Loaded) -> None:
    adak = loaded.client.get("/api/stations/nearest", params={"lat": 52, "lon": 179.9, "limit": 1})
    (row,) = adak.json()["data"]
    assert row["station_id"] == "USW00045715"
    assert row["distance_km"] == pytest.approx(haversine_km(52, 179.9, 51.8833, -176.65), abs=1e-3)
    pole = loaded.client.get("/api/stations/nearest", params={"lat": -89.9, "lon": 100, "limit": 1})
    assert pole.json()["data"][0]["station_id"] == "AYW00090001"


def test_nearest_pages_outwards_within_max_km(loaded: Loaded) -> None:
    expected = [(s, d) for s, d in brute_force(loaded.stations, 30.0, 10.0) if d <= 3000]
    rows = all_pages(loaded.client, "/api/stations/nearest?lat=30&lon=10&max_km=3000&limit=7")
    assert _ids(rows) == [station_id for station_id, _ in expected]
    assert len(rows) > 7  # several pages


def test_nearest_next_cursor_resumes_like_next(loaded: Loaded) -> None:
    params = {"lat": 47.6, "lon": -122.3, "limit": 3}
    first = loaded.client.get("/api/stations/nearest", params=params).json()
    by_cursor = loaded.client.get(
        "/api/stations/nearest", params={**params, "cursor": first["next_cursor"]}
    ).json()
    assert by_cursor == loaded.client.get(first["next"]).json()
    assert _ids(first["data"]) == ["USC00457473", "USW00094290", "USW00024233"]


def test_nearest_in_miles(loaded: Loaded) -> None:
    params = {"lat": 47.6, "lon": -122.3, "limit": 1}
    (km,) = loaded.client.get("/api/stations/nearest", params=params).json()["data"]
    imperial = {**params, "units": "imperial"}
    (mi,) = loaded.client.get("/api/stations/nearest", params=imperial).json()["data"]
    assert mi["distance_mi"] == pytest.approx(km["distance_km"] / 1.609344, abs=0.001)
    assert "distance_km" not in mi


def test_nearest_csv_is_the_same_ranking(loaded: Loaded) -> None:
    params = {"lat": 47.6, "lon": -122.3, "max_km": 500, "format": "csv"}
    text = loaded.client.get("/api/stations/nearest", params=params).text
    lines = text.splitlines()
    assert lines[0].endswith(",distance_km")
    expected = [s for s, d in brute_force(loaded.stations, 47.6, -122.3) if d <= 500]
    assert [line.split(",")[0] for line in lines[1:]] == expected


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        ("/api/stations/search", {"q": "%%"}, "q"),
        ("/api/stations/search", {"bbox": "0,10,5,5"}, "bbox"),
        ("/api/stations/search", {"bbox": "0,0,200,5"}, "bbox"),
        ("/api/stations/search", {"bbox": "1,2,3"}, "bbox"),
        ("/api/stations/nearest", {"lat": 91, "lon": 0}, "lat"),
        ("/api/stations/nearest", {"lat": 0}, "lon"),
        ("/api/stations/nearest", {"lat": 0, "lon": 0, "max_km": 0}, "max_km"),
    ],
)
def test_bad_search_parameters_are_a_400_naming_them(
    loaded: Loaded, path: str, params: dict[str, object], parameter: str
) -> None:
    response = loaded.client.get(path, params=params)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["parameter"] for e in response.json()["errors"]] == [parameter]


def test_text_that_cannot_start_an_id_searches_names_only(loaded: Loaded) -> None:
    # The last code point: one higher would not exist (the id range must not be built).
    response = loaded.client.get("/api/stations/search", params={"q": "seattle\U0010ffff"})
    assert response.status_code == 200
    assert len(response.json()["data"]) == 3
    assert _ids(all_pages(loaded.client, "/api/stations/search?q=Seattle,%20sand")) == [
        "USW00094290"
    ]
