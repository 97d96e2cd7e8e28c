"""How the API uses the database: the read replica, the statement timeout."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from service.app import create_app
from tests.api.loaded import STATIONS, api_settings
from tests.harness import postgres
from warehouse import db


def test_reads_go_to_the_read_replica_when_one_is_configured(
    database_url: str, loaded_url: str
) -> None:
    # The primary (database_url) is empty; only the "replica" holds data.
    settings = api_settings(database_url, database_read_url=SecretStr(loaded_url))
    with TestClient(create_app(settings)) as client:
        stations = client.get("/api/stations").json()["data"]
    assert [s["station_id"] for s in stations] == sorted(STATIONS)


def test_a_query_over_the_statement_timeout_is_a_503(loaded_url: str) -> None:
    settings = api_settings(loaded_url, database_statement_timeout_ms=1)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        # A single day across every station walks the whole primary key index.
        response = client.get("/api/weather", params={"start_date": "1986-01-01", "format": "csv"})
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"]


def test_the_api_pool_refuses_writes(loaded_url: str) -> None:
    async def try_to_write() -> None:
        async with db.async_pool(api_settings(loaded_url)) as pool, pool.connection() as conn:
            await conn.execute("DELETE FROM crop_yield")

    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        asyncio.run(try_to_write())
    assert postgres.rows(loaded_url, "SELECT count(*) FROM crop_yield")[0][0] > 0
