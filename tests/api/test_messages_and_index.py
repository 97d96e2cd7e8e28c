"""Messages for people: a refused parameter is put in words; the bare host points the way."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

WORDS = [
    ("/api/stations/search?bbox=1,2,3", "bbox", "a bounding box: west,south,east,north in degrees"),
    ("/api/stations/search?q=%25", "q", "a station id prefix or words of a station name"),
    ("/api/weather?station_id=usc00110072", "station_id", "a station id: capital letters"),
    ("/api/weather/stats?station_id=a%20b", "station_id", "a station id: capital letters"),
]


@pytest.mark.parametrize(("path", "parameter", "words"), WORDS)
def test_a_refused_pattern_is_described_in_words_never_as_a_regex(
    client: TestClient, path: str, parameter: str, words: str
) -> None:
    body = client.get(path).json()
    (error,) = body["errors"]
    assert error["parameter"] == parameter
    assert error["detail"].startswith(f"expected {words}")
    assert not any(mark in body["detail"] for mark in ("pattern", "^", "[", "\\"))


@pytest.mark.parametrize("path", ["/", "/api"])
def test_the_root_and_api_answer_an_index_linking_docs_schema_and_collections(
    client: TestClient, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    links = {link["href"]: link for link in response.json()["links"]}
    assert links["/docs"]["rel"] == "service-doc"
    assert links["/openapi.json"]["rel"] == "service-desc"
    collections = {href for href, link in links.items() if link["rel"] == "data"}
    assert {"/api/weather", "/api/yield", "/api/stations", "/api/stations/search"} <= collections
    for href in links:
        assert client.get(href).status_code == 200, href
