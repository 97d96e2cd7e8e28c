"""Date parameters take ISO 8601 dates only (``YYYY-MM-DD``), through the real server."""

from __future__ import annotations

import httpx
import pytest

from tests.api.live import LiveServer
from tests.api.test_errors import assert_problem


@pytest.mark.parametrize(
    "value",
    ["0", "86400", "1700000000", "2020-1-5", "20200105", "2020-01-05T00:00:00", "2020-02-30"],
)
@pytest.mark.parametrize("parameter", ["start_date", "end_date"])
def test_a_date_parameter_that_is_not_an_iso_date_is_a_400_naming_it(
    live: LiveServer, parameter: str, value: str
) -> None:
    response = httpx.get(f"{live.url}/api/weather", params={parameter: value}, timeout=30)
    body = assert_problem(response, 400)
    assert body["errors"] == [
        {
            "parameter": parameter,
            "detail": body["errors"][0]["detail"],
        }
    ]
    assert "ISO 8601 date, YYYY-MM-DD" in body["errors"][0]["detail"]
    assert body["detail"].startswith(f"{parameter}: must be an ISO 8601 date")


@pytest.mark.parametrize("value", ["0", "1700000000", "2020-01-05T00:00:00"])
def test_every_date_parameter_takes_only_iso_dates(live: LiveServer, value: str) -> None:
    response = httpx.get(
        f"{live.url}/api/freshness/stations", params={"stale_before": value}, timeout=30
    )
    body = assert_problem(response, 400)
    assert body["detail"].startswith("stale_before: must be an ISO 8601 date")


def test_an_iso_date_is_accepted(live: LiveServer) -> None:
    response = httpx.get(
        f"{live.url}/api/weather",
        params={"start_date": "1985-01-01", "end_date": "1985-01-02", "limit": 10},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert {row["date"] for row in response.json()["data"]} == {"1985-01-01", "1985-01-02"}


def test_the_openapi_document_still_says_format_date(live: LiveServer) -> None:
    document = httpx.get(f"{live.url}/openapi.json", timeout=30).json()
    parameters = document["paths"]["/api/weather"]["get"]["parameters"]
    for name in ("start_date", "end_date"):
        (schema,) = [p["schema"] for p in parameters if p["name"] == name]
        assert {"type": "string", "format": "date"} in schema.get("anyOf", [schema])
