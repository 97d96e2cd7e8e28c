"""``GET /api/yield``: the yearly US corn grain yield."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from service import queries
from service.lists import csv_stream, listing
from service.models import YieldPageImperial, YieldPageMetric, YieldQuery
from service.openapi import Operation
from service.units import Units, kt_to_thousand_bushels

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


def _metric(row: Row) -> dict[str, Any]:
    return {"year": row[0], "corn_yield_kt": row[1]}


def _imperial(row: Row) -> dict[str, Any]:
    return {"year": row[0], "corn_yield_thousand_bu": kt_to_thousand_bushels(row[1])}


LISTING = listing.Listing(
    name="yield",
    query_model=YieldQuery,
    filters=lambda query: (query.start_year, query.end_year),
    key=lambda row: (row[0],),
    parse_key=lambda values: (int(values[0]),),
    fetch=_fetch,
    to_json={Units.metric: _metric, Units.imperial: _imperial},
    csv_header={
        Units.metric: ("year", "corn_yield_kt"),
        Units.imperial: ("year", "corn_yield_thousand_bu"),
    },
    to_csv={
        Units.metric: lambda row: csv_stream.line(_metric(row).values()),
        Units.imperial: lambda row: csv_stream.line(_imperial(row).values()),
    },
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
