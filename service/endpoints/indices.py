"""``GET /api/weather/indices`` and ``GET /api/yield/indices``: climate and crop-season indices.

Per station and year, as the ingest job computed them (``ingest_job.indices``,
docs/indices.md); and per yield year, the corn yield beside each index's
mean over a chosen set of stations.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from service import queries, rows
from service.lists import listing
from service.models import (
    IndicesPageImperial,
    IndicesPageMetric,
    YieldIndicesPageImperial,
    YieldIndicesPageMetric,
)
from service.openapi import Operation
from service.params import IndicesQuery, YieldIndicesQuery
from service.units import Units

Row = tuple[Any, ...]
PATH = "/api/weather/indices"
YIELD_PATH = "/api/yield/indices"
_STATION_YEAR_FIELDS = frozenset(("station_id", "year", *rows.INDEX_DAY_COUNTS))
_YIELD_YEAR_FIELDS = frozenset(("year", "corn_yield_kt", "corn_yield_thousand_bu", "stations"))


def _filters(query: IndicesQuery | YieldIndicesQuery) -> tuple[object, ...]:
    chosen = sorted(set(query.index))
    return (sorted(set(query.station_id)), query.first_year, query.last_year, chosen)


def _station_fields(query: IndicesQuery) -> frozenset[str] | None:
    """The key, the day counts and the indices asked for; None (all) without ``index``."""
    return _STATION_YEAR_FIELDS | {i.value for i in query.index} if query.index else None


def _yield_fields(query: YieldIndicesQuery) -> frozenset[str] | None:
    """The year's fields and the means of the indices asked for (frost dates as ``*_doy``)."""
    if not query.index:
        return None
    names = {f"{i.value}_doy" if i.value.endswith("_frost") else i.value for i in query.index}
    return _YIELD_YEAR_FIELDS | names


async def _fetch(
    conn: queries.Conn, query: IndicesQuery, after: tuple[Any, ...] | None, limit: int
) -> list[Row]:
    return await queries.indices(
        conn,
        stations=query.station_id,
        first_year=query.first_year,
        last_year=query.last_year,
        after=(after[0], after[1]) if after else None,
        limit=limit,
    )


async def _fetch_yield(
    conn: queries.Conn, query: YieldIndicesQuery, after: tuple[Any, ...] | None, limit: int
) -> list[Row]:
    return await queries.yield_indices(
        conn,
        stations=query.station_id,
        first_year=query.first_year,
        last_year=query.last_year,
        after=after[0] if after else None,
        limit=limit,
    )


LISTING = listing.Listing(
    name="indices",
    query_model=IndicesQuery,
    filters=_filters,
    key=rows.INDICES.key("station_id", "year"),
    parse_key=lambda values: (str(values[0]), int(values[1])),
    fetch=_fetch,
    fields=_station_fields,
    **rows.INDICES.shapes(),
)

YIELD_LISTING = listing.Listing(
    name="yield_indices",
    query_model=YieldIndicesQuery,
    filters=_filters,
    key=rows.YIELD_INDICES.key("year"),
    parse_key=lambda values: (int(values[0]),),
    fetch=_fetch_yield,
    fields=_yield_fields,
    **rows.YIELD_INDICES.shapes(),
)

ROUTES = [
    Route(PATH, listing.endpoint(LISTING), methods=["GET"]),
    Route(YIELD_PATH, listing.endpoint(YIELD_LISTING), methods=["GET"]),
]

OPERATIONS = [
    Operation(
        path=PATH,
        summary="Climate and crop-season indices per station and year",
        description=(
            "Per station and year: the ETCCDI core indices (`fd`, `su`, `id`, `tr`, `txx`, "
            "`txn`, `tnx`, `tnn`, `dtr`, `rx1day`, `rx5day`, `sdii`, `r10mm`, `r20mm`, `cdd`, "
            "`cwd`, `prcptot`), corn growing degree days (`gdd`, 86/50 method, 1 May to 30 "
            "September) and the season's precipitation (`season_prcp`), the last spring and "
            "first autumn frost (dates), equal to xclim's yearly indicators. Metric: °C, mm, "
            "days; imperial: °F, inches (same field names). An index is null when its year "
            "(season) misses more than 15 days of a variable it reads; the `*_days` fields "
            "count the days present. `index` keeps only the indices named. Rows in "
            "(station_id, year) order."
        ),
        tag="weather",
        query=IndicesQuery,
        ok=(IndicesPageMetric, IndicesPageImperial),
        csv_header=LISTING.csv_header[Units.metric],
    ),
    Operation(
        path=YIELD_PATH,
        summary="Corn yield beside the mean of each index over chosen stations",
        description=(
            "Per year with a corn yield: the yield, how many of the chosen stations "
            "(`station_id`, all if absent) have indices that year, and the mean of each index "
            "over them, nulls left out; the frost dates as mean day of the year "
            "(`last_spring_frost_doy`, `first_autumn_frost_doy`). Units as in "
            "`/api/weather/indices`; `index` keeps only the indices named. Rows in year order."
        ),
        tag="yield",
        query=YieldIndicesQuery,
        ok=(YieldIndicesPageMetric, YieldIndicesPageImperial),
        csv_header=YIELD_LISTING.csv_header[Units.metric],
    ),
]
