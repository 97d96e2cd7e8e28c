"""Every error is an RFC 9457 problem: 400 naming the parameter, 404, 405, 406, 500."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from service.app import create_app
from tests.api.loaded import STATIONS, api_settings

PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The response is a problem document with ``status``; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def parameters(body: dict[str, Any]) -> list[str]:
    return [error["parameter"] for error in body["errors"]]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("start_date=2020-13-01", "start_date"),
        ("start_date=2000-01-02&end_date=2000-01-01", "end_date"),
        ("station_id=bad%20id", "station_id"),
        ("units=kelvin", "units"),
        ("format=xml", "format"),
        ("from=1&start_date=2000-01-01", "from"),
        ("to=99999999999999999999", "to"),
        ("limit=5&limit=6", "limit"),
        ("stations=USC00110072", "stations"),
    ],
)
def test_bad_parameter_is_a_400_naming_it(client: TestClient, query: str, parameter: str) -> None:
    body = assert_problem(client.get(f"/api/weather?{query}"), 400)
    assert parameters(body) == [parameter]
    assert str(body["detail"]).startswith(f"{parameter}: ")


def test_tampered_cursor_is_a_400(client: TestClient) -> None:
    next_url = client.get("/api/weather", params={"station_id": STATIONS[0], "limit": 1}).json()[
        "next"
    ]
    cursor = next_url.split("cursor=")[1]
    payload, mac = cursor.split(".")
    forged = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1] + "." + mac
    for bad in (forged, "garbage", "a.b.c", "%%%", cursor[:-1]):
        body = assert_problem(client.get("/api/weather", params={"cursor": bad}), 400)
        assert parameters(body) == ["cursor"]


def test_cursor_of_other_filters_or_endpoint_is_a_400(client: TestClient) -> None:
    next_url = client.get("/api/weather", params={"station_id": STATIONS[0], "limit": 1}).json()[
        "next"
    ]
    cursor = next_url.split("cursor=")[1]
    other_station = {"station_id": STATIONS[1], "cursor": cursor}
    assert_problem(client.get("/api/weather", params=other_station), 400)
    assert_problem(client.get("/api/weather/stats", params=other_station), 400)
    # The page size may change between pages; the filters may not.
    same = {"station_id": STATIONS[0], "cursor": cursor, "limit": 5, "units": "imperial"}
    assert client.get("/api/weather", params=same).status_code == 200


def test_unknown_path_is_a_404_problem(client: TestClient) -> None:
    assert_problem(client.get("/api/nothing-here"), 404)


def test_wrong_method_is_a_405_problem_with_allow(client: TestClient) -> None:
    response = client.delete("/api/weather")
    assert_problem(response, 405)
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD"}


def test_unacceptable_media_type_is_a_406_problem(client: TestClient) -> None:
    body = assert_problem(client.get("/api/weather", headers={"Accept": "image/png"}), 406)
    assert "text/csv" in str(body["detail"])
    assert_problem(client.get(f"/api/stations/{STATIONS[0]}", headers={"Accept": "text/csv"}), 406)


def test_accept_quality_values_choose_the_representation(client: TestClient) -> None:
    accept = "application/json;q=0.5, text/csv"
    response = client.get("/api/yield", headers={"Accept": accept})
    assert response.headers["content-type"].startswith("text/csv")
    response = client.get("/api/yield", headers={"Accept": "text/*;q=0.2, */*;q=0.9"})
    assert response.headers["content-type"] == "application/json"


def test_a_bug_is_a_bare_500_and_its_details_go_to_the_log(
    loaded_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(api_settings(loaded_url))

    async def broken(request: Request) -> Response:
        raise RuntimeError("secret internal detail")

    app.router.routes.append(Route("/api/broken", broken))
    with TestClient(app, raise_server_exceptions=False) as client, caplog.at_level(logging.ERROR):
        response = client.get("/api/broken", headers={"X-Request-ID": "req-500-test"})
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["request_id"] == "req-500-test"
    assert "secret" not in response.text
    (record,) = [r for r in caplog.records if r.getMessage() == "unhandled error"]
    assert record.request_id == "req-500-test"
    assert record.exc_info is not None
    assert "secret internal detail" in str(record.exc_info[1])


def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert len(made.headers["x-request-id"]) == 32
