"""No input is a 5xx: control characters are refused by name, any Unicode gets a 4xx at worst."""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

NUL_CASES = [
    ("/api/stations/search?q=USC%00", "q"),
    ("/api/stations/search?q=x%00y", "q"),
    ("/api/stations/search?q=x%00y&format=csv", "q"),
    ("/api/weather?station_id=USC00110072%00", "station_id"),
    ("/api/weather/stats?station_id=%01", "station_id"),
    ("/api/stations/nearest?lat=40&lon=-88&cursor=%00", "cursor"),
    ("/api/freshness/stations?stale_before=2000-01-01%0A", "stale_before"),
    ("/api/stations/search?q=caf%C2%85", "q"),
]


@pytest.mark.parametrize(("path", "parameter"), NUL_CASES)
def test_a_control_character_in_a_text_parameter_is_a_400_naming_it(
    client: TestClient, path: str, parameter: str
) -> None:
    response = client.get(path)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    (error,) = response.json()["errors"]
    assert error["parameter"] == parameter
    assert error["detail"].startswith("contains the control character U+00")


@functools.cache
def operations(client: TestClient) -> list[tuple[str, list[str]]]:
    """Every GET operation of the OpenAPI document, with its parameters."""
    found = []
    for path, item in client.get("/openapi.json").json()["paths"].items():
        get: dict[str, Any] | None = item.get("get")
        if get is not None:
            names = [p["name"] for p in get.get("parameters", []) if p["in"] == "query"]
            found.append((path, names))
    return found


ANY_TEXT = st.one_of(
    st.text(max_size=20),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1000, max_size=5000),
    st.sampled_from(["\x00", "\ud800", "x\x00y", "%", "\\", "'", '"', "NaN", "-0", "1e999"]),
)


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))  # fmt: skip
@given(data=st.data())
def test_no_value_of_any_parameter_of_any_operation_is_a_server_error(
    client: TestClient, data: st.DataObject
) -> None:
    path, names = data.draw(st.sampled_from(operations(client)))
    path = path.replace("{station_id}", quote(data.draw(ANY_TEXT), safe="", errors="surrogatepass"))
    value = data.draw(ANY_TEXT)
    name = data.draw(st.sampled_from(names)) if names else "q"
    query = f"{name}={quote(value, safe='', errors='surrogatepass')}"
    response = client.get(f"{path}?{query}")
    assert response.status_code < 500, (path, query, response.text)
