"""Every SQL statement the API runs. All read-only, all parameterised.

List queries use keyset pagination in primary-key order: ``WHERE (key) >
(last key) ORDER BY key LIMIT n``, which the primary key index answers at the
same cost on the first page and the last. Filters are composed from fixed
fragments (never from input), so each combination is a stable statement
that psycopg prepares after a few uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from psycopg import AsyncConnection, sql

Conn = AsyncConnection[Any]


@dataclass(frozen=True)
class Freshness:
    """What the caching headers and freshness metrics are derived from."""

    run_id: int | None
    finished_at: datetime | None
    last_success_at: datetime | None
    latest_observation: date | None


_WEATHER = sql.SQL(
    "SELECT station_id, obs_date, tmax_tenths_c, tmin_tenths_c, prcp_tenths_mm FROM observation"
)
_STATS = sql.SQL(
    "SELECT station_id, year, avg_max_temp_c, avg_min_temp_c, total_precip_cm,"
    " max_temp_days, min_temp_days, precip_days FROM weather_stats"
)
_YIELD = sql.SQL("SELECT year, corn_yield_kt FROM crop_yield")
_STATION_COLUMNS = sql.SQL(
    "SELECT station_id, name, state, latitude, longitude, elevation_m,"
    " first_date, last_date, observation_count FROM station"
)
_FRESHNESS = """
SELECT
    (SELECT run_id FROM ingest_run WHERE finished_at IS NOT NULL
      ORDER BY finished_at DESC LIMIT 1),
    (SELECT max(finished_at) FROM ingest_run WHERE finished_at IS NOT NULL),
    (SELECT max(finished_at) FROM ingest_run WHERE status = 'succeeded'),
    (SELECT max(last_date) FROM station)
"""


def _where(conditions: list[sql.Composable]) -> sql.Composed:
    if not conditions:
        return sql.Composed([])
    return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions)


async def _fetch(conn: Conn, query: sql.Composed, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    cursor = await conn.execute(query, params)
    rows: list[tuple[Any, ...]] = await cursor.fetchall()
    return rows


async def weather(
    conn: Conn,
    *,
    stations: Sequence[str],
    first: date | None,
    last: date | None,
    after: tuple[str, date] | None,
    limit: int,
) -> list[tuple[str, date, int | None, int | None, int | None]]:
    """Observations in (station_id, obs_date) order, after the key ``after``."""
    conditions: list[sql.Composable] = []
    params: list[Any] = []
    if stations:
        conditions.append(sql.SQL("station_id = ANY(%s)"))
        params.append(list(stations))
    if first is not None:
        conditions.append(sql.SQL("obs_date >= %s"))
        params.append(first)
    if last is not None:
        conditions.append(sql.SQL("obs_date <= %s"))
        params.append(last)
    if after is not None:
        conditions.append(sql.SQL("(station_id, obs_date) > (%s, %s)"))
        params.extend(after)
    query = _WEATHER + _where(conditions) + sql.SQL(" ORDER BY station_id, obs_date LIMIT %s")
    return await _fetch(conn, query, [*params, limit])


async def stats(
    conn: Conn,
    *,
    stations: Sequence[str],
    first_year: int | None,
    last_year: int | None,
    after: tuple[str, int] | None,
    limit: int,
) -> list[tuple[str, int, Decimal | None, Decimal | None, Decimal | None, int, int, int]]:
    """Yearly statistics in (station_id, year) order, after the key ``after``."""
    conditions: list[sql.Composable] = []
    params: list[Any] = []
    if stations:
        conditions.append(sql.SQL("station_id = ANY(%s)"))
        params.append(list(stations))
    if first_year is not None:
        conditions.append(sql.SQL("year >= %s"))
        params.append(first_year)
    if last_year is not None:
        conditions.append(sql.SQL("year <= %s"))
        params.append(last_year)
    if after is not None:
        conditions.append(sql.SQL("(station_id, year) > (%s, %s)"))
        params.extend(after)
    query = _STATS + _where(conditions) + sql.SQL(" ORDER BY station_id, year LIMIT %s")
    return await _fetch(conn, query, [*params, limit])


async def yields(
    conn: Conn,
    *,
    first_year: int | None,
    last_year: int | None,
    after: int | None,
    limit: int,
) -> list[tuple[int, int]]:
    """Yearly corn yield in year order, after the year ``after``."""
    conditions: list[sql.Composable] = []
    params: list[Any] = []
    if first_year is not None:
        conditions.append(sql.SQL("year >= %s"))
        params.append(first_year)
    if last_year is not None:
        conditions.append(sql.SQL("year <= %s"))
        params.append(last_year)
    if after is not None:
        conditions.append(sql.SQL("year > %s"))
        params.append(after)
    query = _YIELD + _where(conditions) + sql.SQL(" ORDER BY year LIMIT %s")
    return await _fetch(conn, query, [*params, limit])


async def stations(conn: Conn, *, after: str | None, limit: int) -> list[tuple[Any, ...]]:
    """Stations in id order, after the id ``after``."""
    conditions: list[sql.Composable] = []
    params: list[Any] = []
    if after is not None:
        conditions.append(sql.SQL("station_id > %s"))
        params.append(after)
    query = _STATION_COLUMNS + _where(conditions) + sql.SQL(" ORDER BY station_id LIMIT %s")
    return await _fetch(conn, query, [*params, limit])


async def station(conn: Conn, station_id: str) -> tuple[Any, ...] | None:
    """One station, or ``None``."""
    query = _STATION_COLUMNS + sql.SQL(" WHERE station_id = %s")
    rows = await _fetch(conn, query, [station_id])
    return rows[0] if rows else None


async def freshness(conn: Conn) -> Freshness:
    """The latest finished ingest run, the latest successful one, the newest observation day."""
    cursor = await conn.execute(_FRESHNESS)
    row = await cursor.fetchone()
    assert row is not None  # a SELECT without FROM always returns one row
    return Freshness(*row)


async def ping(conn: Conn) -> None:
    """A round trip to the database."""
    await conn.execute("SELECT 1")
