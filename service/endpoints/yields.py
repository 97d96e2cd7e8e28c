"""``GET /api/yield``: the yearly US corn grain yield."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from service import queries, rows
from service.lists import listing
from service.models import YieldPageImperial, YieldPageMetric
from service.openapi import Operation
from service.params import YieldQuery
from service.units import Units

Row = tuple[Any, ...]


async def _fetch(
    conn: queries.Conn, query: YieldQuery, after: tuple[Any, ...] | None, limit: int
) -> list[Row]:
    return await queries.yields(
        conn,
        first_year=query.start_year,
        last_year=query.end_year,
        after=after[0] if after else None,
        limit=limit,
    )


LISTING = listing.Listing(
    name="yield",
    query_model=YieldQuery,
    filters=lambda query: (query.start_year, query.end_year),
    key=rows.YIELD.key("year"),
    parse_key=lambda values: (int(values[0]),),
    fetch=_fetch,
    **rows.YIELD.shapes(),
)

ROUTES = [Route("/api/yield", listing.endpoint(LISTING), methods=["GET"])]

OPERATIONS = [
    Operation(
        path="/api/yield",
        summary="Yearly US corn grain yield",
        description=(
            "The US corn grain harvest per year, in thousands of metric tons as the source "
            "gives it; with `units=imperial` in thousands of bushels (56 lb), rounded to a "
            "whole number. Rows in year order."
        ),
        tag="yield",
        query=YieldQuery,
        ok=(YieldPageMetric, YieldPageImperial),
        csv_header=LISTING.csv_header[Units.metric],
    )
]
