"""``GET /api/weather/stats``: yearly statistics per station."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from service import queries, rows
from service.lists import listing
from service.models import StatsPageImperial, StatsPageMetric
from service.openapi import Operation
from service.params import StatsQuery
from service.units import Units

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


LISTING = listing.Listing(
    name="stats",
    query_model=StatsQuery,
    filters=_filters,
    key=rows.STATS.key("station_id", "year"),
    parse_key=lambda values: (str(values[0]), int(values[1])),
    fetch=_fetch,
    **rows.STATS.shapes(),
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
