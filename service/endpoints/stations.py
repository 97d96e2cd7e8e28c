"""``GET /api/stations`` and ``GET /api/stations/{station_id}``: stations and their data span."""

from __future__ import annotations

import re
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service import caching, queries, rows
from service.lists import listing, negotiation
from service.models import (
    StationDetailImperial,
    StationDetailMetric,
    StationPageImperial,
    StationPageMetric,
)
from service.openapi import Operation
from service.params import STATION_ID_PATTERN, Format, StationQuery, StationsQuery
from service.problems import ApiProblem
from service.state import AppState
from service.units import Units

Row = tuple[Any, ...]
_STATION_ID = re.compile(STATION_ID_PATTERN)


async def _fetch(
    conn: queries.Conn, query: StationsQuery, after: tuple[Any, ...] | None, limit: int
) -> list[Row]:
    return await queries.stations(conn, after=after[0] if after else None, limit=limit)


LISTING = listing.Listing(
    name="stations",
    query_model=StationsQuery,
    filters=lambda query: (),
    key=rows.STATION.key("station_id"),
    parse_key=lambda values: (str(values[0]),),
    fetch=_fetch,
    **rows.STATION.shapes(),
)


async def station_detail(request: Request) -> Response:
    """One station, or a 404 problem."""
    query = listing.parse_query(StationQuery, request.query_params)
    negotiation.choose(request.headers.get("accept"), None, (Format.json,))
    station_id = request.path_params["station_id"]
    if not _STATION_ID.match(station_id):
        raise _no_station(station_id)
    state: AppState = request.app.state.warehouse
    # Validators before the row, so that they never claim newer data than it
    # holds; the 304 only after it, so that it never stands in for a 404.
    headers, unchanged = await caching.conditional(request.headers, state.freshness, "json")
    row = await state.pool.run(lambda conn: queries.station(conn, station_id))
    if row is None:
        raise _no_station(station_id)
    if unchanged is not None:
        return unchanged
    body = {**LISTING.to_json[query.units](row), "units": query.units.value}
    return Response(orjson.dumps(body), 200, dict(headers), media_type=negotiation.JSON)


def _no_station(station_id: str) -> ApiProblem:
    return ApiProblem(404, f"no station {station_id!r}")


ROUTES = [
    Route("/api/stations", listing.endpoint(LISTING), methods=["GET"]),
    Route("/api/stations/{station_id}", station_detail, methods=["GET"]),
]

_STATION_DESCRIPTION = (
    "Coordinates and name come from the GHCN station inventory when it was ingested "
    '(null otherwise). `first_date`/`last_date` give the span of the data ("data '
    'through") and `observation_count` the number of station-days stored.'
)

OPERATIONS = [
    Operation(
        path="/api/stations",
        summary="Stations",
        description=f"Every station, in id order. {_STATION_DESCRIPTION}",
        tag="stations",
        query=StationsQuery,
        ok=(StationPageMetric, StationPageImperial),
        csv_header=LISTING.csv_header[Units.metric],
    ),
    Operation(
        path="/api/stations/{station_id}",
        summary="One station",
        description=f"One station; 404 if unknown. {_STATION_DESCRIPTION}",
        tag="stations",
        query=StationQuery,
        ok=(StationDetailMetric, StationDetailImperial),
        path_parameters={"station_id": {"type": "string", "pattern": STATION_ID_PATTERN}},
        problems=(400, 404, 406, 503),
    ),
]
