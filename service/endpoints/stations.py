"""``GET /api/stations`` and ``GET /api/stations/{station_id}``: stations and their data span."""

from __future__ import annotations

import re
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service import caching, queries
from service.lists import csv_stream, listing, negotiation
from service.models import (
    STATION_ID_PATTERN,
    Format,
    StationDetailImperial,
    StationDetailMetric,
    StationPageImperial,
    StationPageMetric,
    StationQuery,
    StationsQuery,
)
from service.openapi import Operation
from service.problems import ApiProblem
from service.state import AppState
from service.units import Units, m_to_ft

Row = tuple[Any, ...]
_STATION_ID = re.compile(STATION_ID_PATTERN)


async def _fetch(
    conn: queries.Conn, query: StationsQuery, after: tuple[Any, ...] | None, limit: int
) -> list[Row]:
    return await queries.stations(conn, after=after[0] if after else None, limit=limit)


def station_metric(row: Row) -> dict[str, Any]:
    """A station row as JSON fields, metric (also the rows of the station search)."""
    return {
        "station_id": row[0],
        "name": row[1],
        "state": row[2],
        "latitude": row[3],
        "longitude": row[4],
        "elevation_m": row[5],
        "first_date": row[6],
        "last_date": row[7],
        "observation_count": row[8],
    }


def station_imperial(row: Row) -> dict[str, Any]:
    """A station row as JSON fields, imperial."""
    return {
        "station_id": row[0],
        "name": row[1],
        "state": row[2],
        "latitude": row[3],
        "longitude": row[4],
        "elevation_ft": m_to_ft(row[5]),
        "first_date": row[6],
        "last_date": row[7],
        "observation_count": row[8],
    }


_EMPTY: Row = ("", None, None, None, None, None, None, None, 0)

LISTING = listing.Listing(
    name="stations",
    query_model=StationsQuery,
    filters=lambda query: (),
    key=lambda row: (row[0],),
    parse_key=lambda values: (str(values[0]),),
    fetch=_fetch,
    to_json={Units.metric: station_metric, Units.imperial: station_imperial},
    csv_header={
        Units.metric: tuple(station_metric(_EMPTY)),
        Units.imperial: tuple(station_imperial(_EMPTY)),
    },
    to_csv={
        Units.metric: lambda row: csv_stream.line(station_metric(row).values()),
        Units.imperial: lambda row: csv_stream.line(station_imperial(row).values()),
    },
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
    to_json = station_metric if query.units is Units.metric else station_imperial
    body = {**to_json(row), "units": query.units.value}
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
