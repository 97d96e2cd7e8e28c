"""``GET /api/weather/stats/monthly``: monthly statistics per station."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from service import queries, rows
from service.lists import listing
from service.models import MonthlyStatsPageImperial, MonthlyStatsPageMetric
from service.openapi import Operation
from service.params import MonthlyStatsQuery
from service.units import Units

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


LISTING = listing.Listing(
    name="monthly_stats",
    query_model=MonthlyStatsQuery,
    filters=_filters,
    key=rows.MONTHLY.key("station_id", "year", "month"),
    parse_key=lambda values: (str(values[0]), int(values[1]), int(values[2])),
    fetch=_fetch,
    **rows.MONTHLY.shapes(),
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
