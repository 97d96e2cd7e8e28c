"""``GET /api/freshness`` and ``/api/freshness/stations``: how fresh the data are.

The report changes only when an ingest run finishes, so it is computed once
per data version (the latest finished run) and kept; its ``ETag`` and
``Last-Modified`` come from the very run the body names as ``last_run``.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service import caching, queries
from service.lists import csv_stream, listing, negotiation
from service.models import FreshnessReport, StationFreshnessPage
from service.openapi import Operation
from service.params import Format, FreshnessQuery, FreshnessStationsQuery
from service.state import AppState
from service.units import Units

Row = tuple[Any, ...]
_REPORT = "freshness_report"  # (version, headers, body) on app.state


def _run(run: queries.Run | None) -> dict[str, Any] | None:
    return None if run is None else asdict(run)


async def _report(state: AppState) -> tuple[queries.Freshness, bytes]:
    """The report as JSON, and the validators' source: the run it names."""

    async def read(
        conn: queries.Conn,
    ) -> tuple[tuple[queries.Run | None, queries.Run | None], queries.Totals]:
        return await queries.last_runs(conn), await queries.totals(conn)

    (last, ok), totals = await state.pool.run(read)
    body = {
        "last_run": _run(last),
        "last_successful_run": _run(ok),
        "data_from": totals.data_from,
        "data_through": totals.data_through,
        "counts": {
            "stations": totals.stations,
            "stations_with_data": totals.stations_with_data,
            "observations": totals.observations,
            "yield_years": totals.yield_years,
        },
    }
    version = queries.Freshness(
        run_id=last.run_id if last else None,
        finished_at=last.finished_at if last else None,
        last_success_at=ok.finished_at if ok else None,
        latest_observation=totals.data_through,
    )
    return version, orjson.dumps(body)


async def freshness(request: Request) -> Response:
    """The latest runs, the span of the data and the row counts."""
    listing.parse_query(FreshnessQuery, request.query_params)
    negotiation.choose(request.headers.get("accept"), None, (Format.json,))
    state: AppState = request.app.state.warehouse
    current = await state.freshness.get()
    kept = getattr(request.app.state, _REPORT, None)
    if kept is None or kept[0] != (current.run_id, current.finished_at):
        version, body = await _report(state)
        kept = ((version.run_id, version.finished_at), caching.validators(version, "json"), body)
        setattr(request.app.state, _REPORT, kept)
    _, headers, body = kept
    unchanged = caching.not_modified(request.headers, headers)
    if unchanged is not None:
        return unchanged
    return Response(body, 200, dict(headers), media_type=negotiation.JSON)


async def _fetch(
    conn: queries.Conn, query: FreshnessStationsQuery, after: tuple[Any, ...] | None, limit: int
) -> list[Row]:
    return await queries.station_freshness(
        conn,
        stations=query.station_id,
        stale_before=query.stale_before,
        after=after[0] if after else None,
        limit=limit,
    )


def _row(row: Row) -> dict[str, Any]:
    return {
        "station_id": row[0],
        "first_date": row[1],
        "last_date": row[2],
        "observation_count": row[3],
        "updated_at": row[4],
    }


def _csv(row: Row) -> str:
    return csv_stream.line((row[0], row[1], row[2], row[3], row[4].isoformat()))


_HEADER = ("station_id", "first_date", "last_date", "observation_count", "updated_at")

STATIONS = listing.Listing(
    name="freshness_stations",
    query_model=FreshnessStationsQuery,
    filters=lambda query: (sorted(set(query.station_id)), query.stale_before),
    key=lambda row: (row[0],),
    parse_key=lambda values: (str(values[0]),),
    fetch=_fetch,
    to_json={Units.metric: _row, Units.imperial: _row},
    csv_header={Units.metric: _HEADER, Units.imperial: _HEADER},
    to_csv={Units.metric: _csv, Units.imperial: _csv},
)

ROUTES = [
    Route("/api/freshness", freshness, methods=["GET"]),
    Route("/api/freshness/stations", listing.endpoint(STATIONS), methods=["GET"]),
]

OPERATIONS = [
    Operation(
        path="/api/freshness",
        summary="How fresh the data are",
        description=(
            "The latest finished ingest run and the latest successful one (time, id, rows "
            "changed), the span of the data over all stations (`data_through` is the latest "
            "observed day) and row counts. `Last-Modified` and `ETag` are those of every data "
            "response: they name `last_run` (`Last-Modified` is its `finished_at` to the "
            "second). Per station: `/api/freshness/stations`."
        ),
        tag="freshness",
        query=FreshnessQuery,
        ok=(FreshnessReport,),
    ),
    Operation(
        path="/api/freshness/stations",
        summary="How fresh each station's data are",
        description=(
            "Each station's data span (`last_date` is its data-through day), its row count "
            "and when an ingest run last changed it, in id order. `stale_before` keeps the "
            "stations whose data end before a day."
        ),
        tag="freshness",
        query=FreshnessStationsQuery,
        ok=(StationFreshnessPage,),
        csv_header=_HEADER,
    ),
]
