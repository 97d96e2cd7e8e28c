"""Every header the live API sends is described in its OpenAPI document, for every operation.

Each documented operation is called over real HTTP in the ways that give
its different responses (a page with a next page, CSV, 304, 400, 404, 406),
and each header of each response must be listed under that status in
``/openapi.json``. HTTP's own framing headers are exempt (Content-Type is
ignored by OpenAPI by definition).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.conftest import STATIONS
from tests.api.live import LiveServer

EXEMPT = {"content-type", "content-length", "transfer-encoding", "date", "server", "connection"}
# Values for the parameters an operation requires.
REQUIRED = {"lat": "47.6", "lon": "-122.3"}
PATH_VALUES = {"station_id": STATIONS[0]}


@pytest.fixture(scope="module")
def document(live: LiveServer) -> dict[str, Any]:
    document: dict[str, Any] = httpx.get(f"{live.url}/openapi.json").json()
    return document


def _documented(document: dict[str, Any], path: str, status: int) -> set[str]:
    responses = document["paths"][path]["get"]["responses"]
    response = responses.get(str(status))
    assert response is not None, f"GET {path} answered {status}, which is not documented"
    return {name.lower() for name in response.get("headers", {})}


def _calls(document: dict[str, Any], path: str) -> list[tuple[dict[str, str], dict[str, str]]]:
    """(query, headers) of the requests that give this operation's responses."""
    operation = document["paths"][path]["get"]
    names = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
    base = {name: REQUIRED[name] for name in names if name in REQUIRED}
    calls = [(base, {}), ({**base, "unknown_parameter": "1"}, {})]
    if "limit" in names:
        calls.append(({**base, "limit": "1"}, {}))  # a next page: Link
    if "format" in names:
        calls.append(({**base, "format": "csv"}, {}))
    if "400" in operation["responses"] or "406" in operation["responses"]:
        calls.append((base, {"Accept": "image/png"}))
    return calls


def test_every_response_header_is_documented(live: LiveServer, document: dict[str, Any]) -> None:
    undocumented: list[str] = []
    seen: set[tuple[str, int]] = set()
    with httpx.Client(base_url=live.url) as client:
        for path, methods in document["paths"].items():
            if "get" not in methods:
                continue
            url = path
            for name, value in PATH_VALUES.items():
                url = url.replace("{" + name + "}", value)
            for query, headers in _calls(document, path):
                responses = [client.get(url, params=query, headers=headers)]
                etag = responses[0].headers.get("etag")
                if etag:
                    responses.append(
                        client.get(url, params=query, headers={**headers, "If-None-Match": etag})
                    )
                for response in responses:
                    seen.add((path, response.status_code))
                    documented = _documented(document, path, response.status_code)
                    for name in response.headers:
                        if name.lower() not in EXEMPT | documented:
                            undocumented.append(f"GET {path} {response.status_code}: {name}")
        missing = client.get("/api/stations/USC99999999")
        seen.add(("/api/stations/{station_id}", missing.status_code))
        documented = _documented(document, "/api/stations/{station_id}", missing.status_code)
        undocumented += [
            f"GET /api/stations/{{station_id}} 404: {name}"
            for name in missing.headers
            if name.lower() not in EXEMPT | documented
        ]
    assert sorted(set(undocumented)) == []
    # The walk reached the responses that carry the most headers.
    assert {("/api/weather", 200), ("/api/weather", 304), ("/api/weather", 400)} <= seen
    assert ("/api/stations/{station_id}", 404) in seen


def test_the_document_describes_each_header_once(document: dict[str, Any]) -> None:
    described = document["components"]["headers"]
    for path, methods in document["paths"].items():
        for method in methods.values():
            for status, response in method["responses"].items():
                for name, header in response.get("headers", {}).items():
                    assert header == {"$ref": f"#/components/headers/{name}"}, (path, status)
                    assert described[name]["description"]
