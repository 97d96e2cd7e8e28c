"""``GET /api/stations/search`` (name or id prefix, bounding box) and ``/api/stations/nearest``.

Names and coordinates come from the GHCN station inventory where it was
ingested. A station without coordinates is shown with null latitude and
longitude, matches a name or id search, and is never inside a box nor near a
point: its position is unknown, and guessing one would put it on a map where
it is not.

Nearest first, exactly: a radius is searched with the GiST index through the
boxes that bound its circle (``geo.circle_boxes``), and widened until it
holds a full page; rows come in (great-circle distance, station_id) order,
which is also the keyset of the cursor.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from service import queries, rows
from service.endpoints import geo
from service.lists import listing
from service.models import (
    NearStationPageImperial,
    NearStationPageMetric,
    StationPageImperial,
    StationPageMetric,
)
from service.openapi import Operation
from service.params import NearestQuery, StationSearchQuery
from service.units import Units

Row = tuple[Any, ...]
# The first radius searched around the point; then 4x wider each time (at
# most 7 rounds to cover the globe). About 12 stations lie within 25 km in
# the dense parts of the GHCN network.
FIRST_RADIUS_KM = 25.0
_WIDEN = 4.0
_EVERYWHERE_KM = geo.MAX_DISTANCE_KM + 1


async def _search(
    conn: queries.Conn, query: StationSearchQuery, after: tuple[Any, ...] | None, limit: int
) -> list[Row]:
    box = query.box
    boxes = [] if box is None else _query_boxes(box)
    return await queries.search_stations(
        conn, text=query.q, boxes=boxes, after=after[0] if after else None, limit=limit
    )


def _query_boxes(box: geo.Box) -> list[geo.Box]:
    lon_min, lat_min, lon_max, lat_max = box
    if lon_min > lon_max:  # across the antimeridian
        return geo.split_at_antimeridian((lon_min, lat_min, lon_max + 360, lat_max))
    return [box]


async def _nearest(
    conn: queries.Conn, query: NearestQuery, after: tuple[Any, ...] | None, limit: int
) -> list[Row]:
    furthest = query.max_km or _EVERYWHERE_KM
    start = after[0] if after else 0.0
    radius = min(furthest, start + FIRST_RADIUS_KM)
    while True:
        rows = await queries.stations_within(
            conn,
            lat=query.lat,
            lon=query.lon,
            radius_km=radius,
            boxes=geo.circle_boxes(query.lat, query.lon, radius),
            after=(after[0], after[1]) if after else None,
            limit=limit,
        )
        # A full page within the radius holds the nearest ones: every station
        # closer than the radius is inside its boxes.
        if len(rows) >= limit or radius >= furthest:
            return rows
        radius = min(furthest, start + (radius - start) * _WIDEN)


SEARCH = listing.Listing(
    name="station_search",
    query_model=StationSearchQuery,
    filters=lambda query: (query.q, query.bbox),
    key=rows.STATION.key("station_id"),
    parse_key=lambda values: (str(values[0]),),
    fetch=_search,
    **rows.STATION.shapes(),
)

NEAREST = listing.Listing(
    name="station_nearest",
    query_model=NearestQuery,
    filters=lambda query: (query.lat, query.lon, query.max_km),
    key=rows.NEAR_STATION.key("distance_km", "station_id"),
    parse_key=lambda values: (float(values[0]), str(values[1])),
    fetch=_nearest,
    **rows.NEAR_STATION.shapes(),
)

# Before /api/stations/{station_id}: these paths are not station ids.
ROUTES = [
    Route("/api/stations/search", listing.endpoint(SEARCH), methods=["GET"]),
    Route("/api/stations/nearest", listing.endpoint(NEAREST), methods=["GET"]),
]

_WITHOUT_COORDINATES = (
    "Names and coordinates come from the GHCN station inventory where it was ingested. A "
    "station without coordinates (never in the inventory) has null `latitude`/`longitude`: "
    "it is never inside a box nor near a point, because its position is unknown and is not "
    "guessed."
)

OPERATIONS = [
    Operation(
        path="/api/stations/search",
        summary="Find stations by name, id prefix or bounding box",
        description=(
            "Stations whose id starts with `q` or whose name has a word starting with each "
            "word of `q`, and/or that lie in `bbox`; both given, a station matches both. In "
            f"id order, paged like every list. {_WITHOUT_COORDINATES}"
        ),
        tag="stations",
        query=StationSearchQuery,
        ok=(StationPageMetric, StationPageImperial),
        csv_header=SEARCH.csv_header[Units.metric],
    ),
    Operation(
        path="/api/stations/nearest",
        summary="Stations nearest to a point",
        description=(
            "Stations by great-circle distance from (`lat`, `lon`) on a sphere of the mean "
            "Earth radius (6371.0088 km), nearest first (ties by id), with the distance in km "
            "(`distance_mi` with `units=imperial`), to 0.001. `max_km` bounds the distance. "
            f"Paged like every list: the next page continues outwards. {_WITHOUT_COORDINATES}"
        ),
        tag="stations",
        query=NearestQuery,
        ok=(NearStationPageMetric, NearStationPageImperial),
        csv_header=NEAREST.csv_header[Units.metric],
    ),
]
