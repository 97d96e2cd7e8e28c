"""``next_cursor``: the bare cursor of ``next`` in every list body, for cursor-paging clients."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.testclient import TestClient

LISTS = [
    "/api/weather",
    "/api/weather/stats",
    "/api/weather/stats/monthly",
    "/api/yield",
    "/api/stations",
    "/api/stations/search?q=usc",
    "/api/freshness/stations",
]


@pytest.mark.parametrize("path", LISTS)
def test_next_cursor_is_the_cursor_of_next(client: TestClient, path: str) -> None:
    body = client.get(path, params={"limit": 1}).json()
    assert body["next_cursor"] is not None
    assert parse_qs(urlsplit(body["next"]).query)["cursor"] == [body["next_cursor"]]


@pytest.mark.parametrize("path", LISTS)
def test_paging_by_next_cursor_alone_reaches_every_row_once(client: TestClient, path: str) -> None:
    by_next: list[object] = []
    url: str | None = f"{path}{'&' if '?' in path else '?'}limit=500"
    while url:
        body = client.get(url).json()
        by_next.extend(body["data"])
        url = body["next"]
    by_cursor: list[object] = []
    cursor: str | None = None
    while True:
        params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        body = client.get(path, params=params).json()
        by_cursor.extend(body["data"])
        cursor = body["next_cursor"]
        if cursor is None:
            assert body["next"] is None
            break
    assert by_cursor == by_next
