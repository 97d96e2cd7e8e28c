"""Conditional requests validate first: a 304 only for a representation that exists.

RFC 9110 section 13.2.1: a server evaluates preconditions only once the
request would otherwise succeed, so an unknown station stays a 404 and a
tampered cursor a 400 whatever ``If-None-Match`` or ``If-Modified-Since`` say.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.api.live import LiveServer
from tests.api.loaded import STATIONS
from tests.api.test_errors import assert_problem


@pytest.fixture(scope="module")
def http(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def validators(http: httpx.Client) -> dict[str, str]:
    """``If-None-Match`` and ``If-Modified-Since`` that match any current JSON list."""
    response = http.get("/api/stations")
    assert response.status_code == 200
    return {
        "If-None-Match": response.headers["etag"],
        "If-Modified-Since": response.headers["last-modified"],
    }


@pytest.mark.parametrize("header", ["If-None-Match", "If-Modified-Since"])
@pytest.mark.parametrize("station", ["NOPE0000000", "no-such!id"])
def test_an_unknown_station_stays_a_404_with_matching_validators(
    http: httpx.Client, validators: dict[str, str], header: str, station: str
) -> None:
    response = http.get(f"/api/stations/{station}", headers={header: validators[header]})
    assert_problem(response, 404)


def test_an_unknown_station_stays_a_404_with_if_none_match_star(http: httpx.Client) -> None:
    assert_problem(http.get("/api/stations/NOPE0000000", headers={"If-None-Match": "*"}), 404)


def test_a_known_station_with_matching_validators_is_a_304(
    http: httpx.Client, validators: dict[str, str]
) -> None:
    response = http.get(f"/api/stations/{STATIONS[0]}", headers=validators)
    assert response.status_code == 304
    assert response.headers["etag"] == validators["If-None-Match"]


@pytest.mark.parametrize("path", ["/api/yield", "/api/stations", "/api/weather"])
@pytest.mark.parametrize("header", ["If-None-Match", "If-Modified-Since"])
def test_a_tampered_cursor_stays_a_400_with_matching_validators(
    http: httpx.Client, validators: dict[str, str], path: str, header: str
) -> None:
    next_url = http.get(path, params={"limit": 1}).json()["next"]
    cursor = httpx.URL(next_url).params["cursor"]
    tampered = ("A" if cursor[0] != "A" else "B") + cursor[1:]
    response = http.get(
        path, params={"limit": 1, "cursor": tampered}, headers={header: validators[header]}
    )
    body = assert_problem(response, 400)
    assert [error["parameter"] for error in body["errors"]] == ["cursor"]


def test_a_valid_cursor_with_matching_validators_is_a_304(
    http: httpx.Client, validators: dict[str, str]
) -> None:
    next_url = http.get("/api/yield", params={"limit": 1}).json()["next"]
    assert http.get(next_url, headers=validators).status_code == 304


def test_a_bad_parameter_stays_a_400_with_matching_validators(
    http: httpx.Client, validators: dict[str, str]
) -> None:
    assert_problem(http.get("/api/weather?limit=0", headers=validators), 400)
