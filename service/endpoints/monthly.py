"""``GET /api/weather/stats/monthly``: monthly statistics per station."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from service import queries
from service.lists import csv_stream, listing
from service.models import MonthlyStatsPageImperial, MonthlyStatsPageMetric, MonthlyStatsQuery
from service.openapi import Operation
from service.units import Units, c_to_c, c_to_f, cm_to_cm, cm_to_in

Row = tuple[Any, ...]
PATH = "/api/weather/stats/monthly"


def _filters(query: MonthlyStatsQuery) -> tuple[object, ...]:
    return (sorted(set(query.station_id)), query.first_year, query.last_year, query.month)


async def _fetch(
    conn: queries.Conn, query: MonthlyStatsQuery, after: tuple[Any, ...] | None, limit: int
) -> list[Row]:
    return await queries.monthly_stats(
        conn,
        stations=query.station_id,
        first_year=query.first_year,
        last_year=query.last_year,
        month=query.month,
        after=(after[0], after[1], after[2]) if after else None,
        limit=limit,
    )


def _metric(row: Row) -> dict[str, Any]:
    return {
        "station_id": row[0],
        "year": row[1],
        "month": row[2],
        "avg_max_temp_c": c_to_c(row[3]),
        "avg_min_temp_c": c_to_c(row[4]),
        "total_precip_cm": cm_to_cm(row[5]),
        "max_temp_days": row[6],
        "min_temp_days": row[7],
        "precip_days": row[8],
    }


def _imperial(row: Row) -> dict[str, Any]:
    return {
        "station_id": row[0],
        "year": row[1],
        "month": row[2],
        "avg_max_temp_f": c_to_f(row[3]),
        "avg_min_temp_f": c_to_f(row[4]),
        "total_precip_in": cm_to_in(row[5]),
        "max_temp_days": row[6],
        "min_temp_days": row[7],
        "precip_days": row[8],
    }


_EMPTY: Row = ("", 0, 1, None, None, None, 0, 0, 0)

LISTING = listing.Listing(
    name="monthly_stats",
    query_model=MonthlyStatsQuery,
    filters=_filters,
    key=lambda row: (row[0], row[1], row[2]),
    parse_key=lambda values: (str(values[0]), int(values[1]), int(values[2])),
    fetch=_fetch,
    to_json={Units.metric: _metric, Units.imperial: _imperial},
    csv_header={Units.metric: tuple(_metric(_EMPTY)), Units.imperial: tuple(_imperial(_EMPTY))},
    to_csv={
        Units.metric: lambda row: csv_stream.line(_metric(row).values()),
        Units.imperial: lambda row: csv_stream.line(_imperial(row).values()),
    },
)

ROUTES = [Route(PATH, listing.endpoint(LISTING), methods=["GET"])]

OPERATIONS = [
    Operation(
        path=PATH,
        summary="Monthly statistics per station",
        description=(
            "Per station and calendar month: average maximum and minimum temperature and "
            "total precipitation, with the rules of the yearly statistics: computed exactly "
            "from the observations and rounded here (average °C to 0.000001, cm to 0.01; with "
            "`units=imperial` average °F to 0.000001 and inches to 0.001). A figure is null "
            "when the month has no observed value for it; `*_days` count the observed days "
            "behind each figure. Filter by station, year or year range, and `month` (e.g. "
            "every July). Rows in (station_id, year, month) order."
        ),
        tag="weather",
        query=MonthlyStatsQuery,
        ok=(MonthlyStatsPageMetric, MonthlyStatsPageImperial),
        csv_header=LISTING.csv_header[Units.metric],
    )
]
