"""Every SQL statement the API runs. All read-only, all parameterised.

List queries use keyset pagination in primary-key order: ``WHERE (key) >
(last key) ORDER BY key LIMIT n``, which the primary key index answers at the
same cost on the first page and the last. Filters are composed from fixed
fragments (never from input), so each combination is a stable statement
that psycopg prepares after a few uses.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, LiteralString

from psycopg import AsyncConnection, sql

Conn = AsyncConnection[Any]


@dataclass(frozen=True)
class Freshness:
    """What the caching headers and freshness metrics are derived from."""

    run_id: int | None
    finished_at: datetime | None
    last_success_at: datetime | None
    latest_observation: date | None


_WEATHER = (
    "SELECT station_id, obs_date, tmax_tenths_c, tmin_tenths_c, prcp_tenths_mm FROM observation"
)
_STATS = (
    "SELECT station_id, year, avg_max_temp_c, avg_min_temp_c, total_precip_cm,"
    " max_temp_days, min_temp_days, precip_days FROM weather_stats"
)
_MONTHLY = (
    "SELECT station_id, year, month, avg_max_temp_c, avg_min_temp_c, total_precip_cm,"
    " max_temp_days, min_temp_days, precip_days FROM monthly_stats"
)
_YIELD = "SELECT year, corn_yield_kt FROM crop_yield"
_INDICES: LiteralString = (
    "SELECT station_id, year, fd, su, id, tr, txx, txn, tnx, tnn, dtr, rx1day, rx5day, sdii,"
    " r10mm, r20mm, cdd, cwd, prcptot, gdd, season_prcp, last_spring_frost, first_autumn_frost,"
    " tx_days, tn_days, dtr_days, pr_days, gdd_days, season_pr_days FROM weather_indices"
)
# The yield beside each index's mean over the chosen stations (all when the
# array parameter is NULL); the frost dates as mean day of the year.
_YIELD_INDICES: LiteralString = (
    "SELECT y.year, y.corn_yield_kt, count(i.station_id),"
    " avg(fd), avg(su), avg(id), avg(tr), avg(txx), avg(txn), avg(tnx), avg(tnn), avg(dtr),"
    " avg(rx1day), avg(rx5day), avg(sdii), avg(r10mm), avg(r20mm), avg(cdd), avg(cwd),"
    " avg(prcptot), avg(gdd), avg(season_prcp),"
    " avg(extract(doy FROM last_spring_frost)), avg(extract(doy FROM first_autumn_frost))"
    " FROM crop_yield y LEFT JOIN weather_indices i ON i.year = y.year"
    " AND (%s::text[] IS NULL OR i.station_id = ANY(%s::text[]))"
)

_STATIONS = (
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


_RUN = (
    "SELECT run_id, status, started_at, finished_at, rows_inserted, rows_updated"
    " FROM ingest_run WHERE finished_at IS NOT NULL"
)
# Exact counts without scanning the observations: the loader keeps each
# station's observation_count in step (see ingest_job.stats).
_TOTALS = """
SELECT count(*), count(*) FILTER (WHERE observation_count > 0),
       coalesce(sum(observation_count), 0)::bigint, min(first_date), max(last_date),
       (SELECT count(*) FROM crop_yield)
FROM station
"""
_STATION_FRESHNESS = (
    "SELECT station_id, first_date, last_date, observation_count, updated_at FROM station"
)


@dataclass(frozen=True)
class Run:
    """One finished ingest run."""

    run_id: int
    status: str
    started_at: datetime
    finished_at: datetime
    rows_inserted: int
    rows_updated: int


@dataclass(frozen=True)
class Totals:
    """What the warehouse holds."""

    stations: int
    stations_with_data: int
    observations: int
    data_from: date | None
    data_through: date | None
    yield_years: int


@functools.cache
def _statement(
    select: LiteralString, conditions: tuple[LiteralString, ...], order: LiteralString
) -> bytes:
    """One statement from fixed fragments, composed once per combination."""
    where = sql.SQL(" AND ").join(map(sql.SQL, conditions)) if conditions else None
    parts = [sql.SQL(select), *([sql.SQL("WHERE"), where] if where else []), sql.SQL(order)]
    return sql.SQL(" ").join(parts).as_bytes()


async def _fetch(
    conn: Conn,
    select: LiteralString,
    conditions: list[tuple[LiteralString, Sequence[Any]]],
    order: LiteralString,
    limit: int,
) -> list[tuple[Any, ...]]:
    statement = _statement(select, tuple(text for text, _ in conditions), order)
    params = [value for _, values in conditions for value in values]
    cursor = await conn.execute(statement, [*params, limit])
    rows: list[tuple[Any, ...]] = await cursor.fetchall()
    return rows


def _station_condition(stations: Sequence[str]) -> list[tuple[LiteralString, Sequence[Any]]]:
    if len(stations) == 1:
        return [("station_id = %s", (stations[0],))]
    if stations:
        return [("station_id = ANY(%s)", (list(stations),))]
    return []


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
    conditions = _station_condition(stations)
    if first is not None:
        conditions.append(("obs_date >= %s", (first,)))
    if last is not None:
        conditions.append(("obs_date <= %s", (last,)))
    if after is not None:
        conditions.append(("(station_id, obs_date) > (%s, %s)", after))
    order = "ORDER BY station_id, obs_date LIMIT %s"
    return await _fetch(conn, _WEATHER, conditions, order, limit)


def _period_conditions(
    stations: Sequence[str], first_year: int | None, last_year: int | None
) -> list[tuple[LiteralString, Sequence[Any]]]:
    """The filters the yearly and the monthly statistics share: stations and years."""
    conditions = _station_condition(stations)
    if first_year is not None:
        conditions.append(("year >= %s", (first_year,)))
    if last_year is not None:
        conditions.append(("year <= %s", (last_year,)))
    return conditions


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
    conditions = _period_conditions(stations, first_year, last_year)
    if after is not None:
        conditions.append(("(station_id, year) > (%s, %s)", after))
    return await _fetch(conn, _STATS, conditions, "ORDER BY station_id, year LIMIT %s", limit)


async def monthly_stats(
    conn: Conn,
    *,
    stations: Sequence[str],
    first_year: int | None,
    last_year: int | None,
    month: int | None,
    after: tuple[str, int, int] | None,
    limit: int,
) -> list[tuple[Any, ...]]:
    """Monthly statistics in (station_id, year, month) order, after the key ``after``."""
    conditions = _period_conditions(stations, first_year, last_year)
    if month is not None:
        conditions.append(("month = %s", (month,)))
    if after is not None:
        conditions.append(("(station_id, year, month) > (%s, %s, %s)", after))
    order = "ORDER BY station_id, year, month LIMIT %s"
    return await _fetch(conn, _MONTHLY, conditions, order, limit)


async def indices(
    conn: Conn,
    *,
    stations: Sequence[str],
    first_year: int | None,
    last_year: int | None,
    after: tuple[str, int] | None,
    limit: int,
) -> list[tuple[Any, ...]]:
    """Climate indices in (station_id, year) order, after the key ``after``."""
    conditions = _period_conditions(stations, first_year, last_year)
    if after is not None:
        conditions.append(("(station_id, year) > (%s, %s)", after))
    return await _fetch(conn, _INDICES, conditions, "ORDER BY station_id, year LIMIT %s", limit)


async def yield_indices(
    conn: Conn,
    *,
    stations: Sequence[str],
    first_year: int | None,
    last_year: int | None,
    after: int | None,
    limit: int,
) -> list[tuple[Any, ...]]:
    """Each yield year with the mean of each index over ``stations`` (all if empty)."""
    conditions: list[tuple[LiteralString, Sequence[Any]]] = []
    if first_year is not None:
        conditions.append(("y.year >= %s", (first_year,)))
    if last_year is not None:
        conditions.append(("y.year <= %s", (last_year,)))
    if after is not None:
        conditions.append(("y.year > %s", (after,)))
    order: LiteralString = "GROUP BY y.year, y.corn_yield_kt ORDER BY y.year LIMIT %s"
    statement = _statement(_YIELD_INDICES, tuple(text for text, _ in conditions), order)
    chosen = list(stations) or None
    params = [chosen, chosen, *(value for _, values in conditions for value in values), limit]
    cursor = await conn.execute(statement, params)
    rows: list[tuple[Any, ...]] = await cursor.fetchall()
    return rows


async def yields(
    conn: Conn,
    *,
    first_year: int | None,
    last_year: int | None,
    after: int | None,
    limit: int,
) -> list[tuple[int, int]]:
    """Yearly corn yield in year order, after the year ``after``."""
    conditions: list[tuple[LiteralString, Sequence[Any]]] = []
    if first_year is not None:
        conditions.append(("year >= %s", (first_year,)))
    if last_year is not None:
        conditions.append(("year <= %s", (last_year,)))
    if after is not None:
        conditions.append(("year > %s", (after,)))
    return await _fetch(conn, _YIELD, conditions, "ORDER BY year LIMIT %s", limit)


async def stations(conn: Conn, *, after: str | None, limit: int) -> list[tuple[Any, ...]]:
    """Stations in id order, after the id ``after``."""
    conditions: list[tuple[LiteralString, Sequence[Any]]] = []
    if after is not None:
        conditions.append(("station_id > %s", (after,)))
    return await _fetch(conn, _STATIONS, conditions, "ORDER BY station_id LIMIT %s", limit)


# The station search. Both conditions match the indexes of migration 0003
# word for word (a partial or expression index is used only then).
_HAS_POSITION: LiteralString = "latitude IS NOT NULL AND longitude IS NOT NULL"
_IN_BOX: LiteralString = "point(longitude, latitude) <@ box(point(%s, %s), point(%s, %s))"
# The id prefix as a range in byte order (text_pattern_ops): unlike
# LIKE $1, a range keeps using the index in the generic plan of a prepared
# statement, where the pattern is unknown.
_NAME_OR_ID: LiteralString = (
    "((station_id ~>=~ %s AND station_id ~<~ %s)"
    " OR to_tsvector('simple', coalesce(name, '')) @@ to_tsquery('simple', %s))"
)
# Haversine on the mean Earth radius (service.endpoints.geo.haversine_km); the point's
# latitude, latitude again and longitude are the first three parameters.
_NEAR: LiteralString = (
    "SELECT * FROM (SELECT station_id, name, state, latitude, longitude, elevation_m,"
    " first_date, last_date, observation_count,"
    " 2 * 6371.0088 * asin(least(1, sqrt("
    "power(sin(radians(latitude - %s) / 2), 2)"
    " + cos(radians(%s)) * cos(radians(latitude)) * power(sin(radians(longitude - %s) / 2), 2)"
    "))) AS distance_km FROM station"
)
_NEAR_ORDER: LiteralString = (
    ") near WHERE distance_km <= %s ORDER BY distance_km, station_id LIMIT %s"
)
_NEAR_AFTER_ORDER: LiteralString = (
    ") near WHERE distance_km <= %s AND (distance_km, station_id) > (%s, %s)"
    " ORDER BY distance_km, station_id LIMIT %s"
)
# The matches first, then their order: otherwise the planner walks the
# primary key in order hoping to meet 100 matches soon, and with a selective
# search reads (and tokenises) the whole table.
_FOUND: LiteralString = (
    "WITH found AS MATERIALIZED (SELECT station_id, name, state, latitude, longitude,"
    " elevation_m, first_date, last_date, observation_count FROM station"
)
_FOUND_ORDER: LiteralString = ") SELECT * FROM found ORDER BY station_id LIMIT %s"
Box = tuple[float, float, float, float]
_ID_PREFIX = re.compile(r"^[A-Z0-9_-]{1,32}$")


def _in_boxes(boxes: Sequence[Box]) -> tuple[LiteralString, list[Any]]:
    text: LiteralString = _IN_BOX if len(boxes) == 1 else f"({_IN_BOX} OR {_IN_BOX})"
    return f"{_HAS_POSITION} AND {text}", [value for box in boxes for value in box]


def _name_or_id(text: str) -> tuple[LiteralString, Sequence[Any]]:
    """Id prefix, or every word a name-word prefix; the words are letters and digits only."""
    words = re.findall(r"[^\W_]+", text.lower())
    prefix = text.strip().upper()
    # Ids are [A-Z0-9_-], so the first string after every one starting with
    # prefix is prefix with its last character one code point higher. Text
    # that cannot start an id gets an empty range.
    following = prefix[:-1] + chr(ord(prefix[-1]) + 1) if _ID_PREFIX.match(prefix) else prefix
    return _NAME_OR_ID, (prefix, following, " & ".join(f"{word}:*" for word in words))


async def search_stations(
    conn: Conn,
    *,
    text: str | None,
    boxes: Sequence[Box],
    after: str | None,
    limit: int,
) -> list[tuple[Any, ...]]:
    """Stations matching a name or id prefix and lying in boxes, in id order after ``after``."""
    conditions: list[tuple[LiteralString, Sequence[Any]]] = []
    if text is not None:
        conditions.append(_name_or_id(text))
    if boxes:
        conditions.append(_in_boxes(boxes))
    if not conditions:  # every station: the primary key's order is the answer
        return await stations(conn, after=after, limit=limit)
    if after is not None:
        conditions.append(("station_id > %s", (after,)))
    return await _fetch(conn, _FOUND, conditions, _FOUND_ORDER, limit)


async def stations_within(
    conn: Conn,
    *,
    lat: float,
    lon: float,
    radius_km: float,
    boxes: Sequence[Box],
    after: tuple[float, str] | None,
    limit: int,
) -> list[tuple[Any, ...]]:
    """Stations within ``radius_km`` of a point (all inside ``boxes``), nearest first.

    Rows are the station columns and the distance in km; ordered by
    (distance, station_id), after the key ``after``.
    """
    box_sql, box_params = _in_boxes(boxes)
    statement = _statement(_NEAR, (box_sql,), _NEAR_AFTER_ORDER if after else _NEAR_ORDER)
    params = [lat, lat, lon, *box_params, radius_km, *(after or ()), limit]
    cursor = await conn.execute(statement, params)
    rows: list[tuple[Any, ...]] = await cursor.fetchall()
    return rows


async def station(conn: Conn, station_id: str) -> tuple[Any, ...] | None:
    """One station, or ``None``."""
    conditions: list[tuple[LiteralString, Sequence[Any]]] = [("station_id = %s", (station_id,))]
    rows = await _fetch(conn, _STATIONS, conditions, "LIMIT %s", 1)
    return rows[0] if rows else None


async def freshness(conn: Conn) -> Freshness:
    """The latest finished ingest run, the latest successful one, the newest observation day."""
    cursor = await conn.execute(_FRESHNESS)
    row = await cursor.fetchone()
    assert row is not None  # a SELECT without FROM always returns one row
    return Freshness(*row)


async def last_runs(conn: Conn) -> tuple[Run | None, Run | None]:
    """The latest finished ingest run, and the latest successful one."""
    runs: list[Run | None] = []
    for condition in ("", " AND status = 'succeeded'"):
        cursor = await conn.execute(_RUN + condition + " ORDER BY finished_at DESC LIMIT 1")
        row = await cursor.fetchone()
        runs.append(None if row is None else Run(*row))
    return runs[0], runs[1]


async def totals(conn: Conn) -> Totals:
    """Counts and the span of the data, from the station rows."""
    cursor = await conn.execute(_TOTALS)
    row = await cursor.fetchone()
    assert row is not None  # an aggregate without GROUP BY always returns one row
    return Totals(*row)


async def station_freshness(
    conn: Conn,
    *,
    stations: Sequence[str],
    stale_before: date | None,
    after: str | None,
    limit: int,
) -> list[tuple[Any, ...]]:
    """Each station's data span in id order, after the id ``after``."""
    conditions = _station_condition(stations)
    if stale_before is not None:
        conditions.append(("last_date < %s", (stale_before,)))
    if after is not None:
        conditions.append(("station_id > %s", (after,)))
    order = "ORDER BY station_id LIMIT %s"
    return await _fetch(conn, _STATION_FRESHNESS, conditions, order, limit)


async def ping(conn: Conn) -> None:
    """A round trip to the database."""
    await conn.execute("SELECT 1")
