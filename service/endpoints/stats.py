"""``GET /api/weather/stats``: yearly statistics per station."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from service import queries
from service.lists import csv_stream, listing
from service.models import StatsPageImperial, StatsPageMetric, StatsQuery
from service.openapi import Operation
from service.units import Units, c_to_c, c_to_f, cm_to_cm, cm_to_in

Row = tuple[Any, ...]


def _filters(query: StatsQuery) -> tuple[object, ...]:
    return (sorted(set(query.station_id)), query.first_year, query.last_year)


async def _fetch(
    conn: queries.Conn, query: StatsQuery, after: tuple[Any, ...] | None, limit: int
) -> list[Row]:
    return await queries.stats(
        conn,
        stations=query.station_id,
        first_year=query.first_year,
        last_year=query.last_year,
        after=(after[0], after[1]) if after else None,
        limit=limit,
    )


def _metric(row: Row) -> dict[str, Any]:
    return {
        "station_id": row[0],
        "year": row[1],
        "avg_max_temp_c": c_to_c(row[2]),
        "avg_min_temp_c": c_to_c(row[3]),
        "total_precip_cm": cm_to_cm(row[4]),
        "max_temp_days": row[5],
        "min_temp_days": row[6],
        "precip_days": row[7],
    }


def _imperial(row: Row) -> dict[str, Any]:
    return {
        "station_id": row[0],
        "year": row[1],
        "avg_max_temp_f": c_to_f(row[2]),
        "avg_min_temp_f": c_to_f(row[3]),
        "total_precip_in": cm_to_in(row[4]),
        "max_temp_days": row[5],
        "min_temp_days": row[6],
        "precip_days": row[7],
    }


LISTING = listing.Listing(
    name="stats",
    query_model=StatsQuery,
    filters=_filters,
    key=lambda row: (row[0], row[1]),
    parse_key=lambda values: (str(values[0]), int(values[1])),
    fetch=_fetch,
    to_json={Units.metric: _metric, Units.imperial: _imperial},
    csv_header={
        Units.metric: tuple(_metric(("", 0, None, None, None, 0, 0, 0))),
        Units.imperial: tuple(_imperial(("", 0, None, None, None, 0, 0, 0))),
    },
    to_csv={
        Units.metric: lambda row: csv_stream.line(_metric(row).values()),
        Units.imperial: lambda row: csv_stream.line(_imperial(row).values()),
    },
)

ROUTES = [Route("/api/weather/stats", listing.endpoint(LISTING), methods=["GET"])]

OPERATIONS = [
    Operation(
        path="/api/weather/stats",
        summary="Yearly statistics per station",
        description=(
            "Per station and year: average maximum and minimum temperature and total "
            "precipitation, computed exactly from the observations and rounded here: average "
            "°C to 0.000001 and cm to 0.01; with `units=imperial` average °F to 0.000001 and "
            "inches to 0.001. A figure "
            "is null when the year has no observed value for it; `*_days` count the observed "
            "days behind each figure. Rows in (station_id, year) order."
        ),
        tag="weather",
        query=StatsQuery,
        ok=(StatsPageMetric, StatsPageImperial),
        csv_header=LISTING.csv_header[Units.metric],
    )
]
