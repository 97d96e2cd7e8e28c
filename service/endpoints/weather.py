"""``GET /api/weather``: daily observations, filtered and paginated."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from starlette.routing import Route

from service import queries, rows
from service.lists import listing
from service.models import WeatherPageImperial, WeatherPageMetric
from service.openapi import Operation
from service.params import WeatherQuery
from service.units import (
    Units,
    tenths_c_to_c,
    tenths_c_to_f,
    tenths_mm_to_in,
    tenths_mm_to_mm,
)

Row = tuple[Any, ...]


def _filters(query: WeatherQuery) -> tuple[object, ...]:
    return (sorted(set(query.station_id)), query.first_day, query.last_day)


async def _fetch(
    conn: queries.Conn, query: WeatherQuery, after: tuple[Any, ...] | None, limit: int
) -> list[Row]:
    return await queries.weather(
        conn,
        stations=query.station_id,
        first=query.first_day,
        last=query.last_day,
        after=(after[0], after[1]) if after else None,
        limit=limit,
    )


_DATES: dict[date, str] = {}


def _day(value: date) -> str:
    text = _DATES.get(value)
    if text is None:
        text = _DATES[value] = value.isoformat()
    return text


def _as_text(convert: Callable[[int | None], float | None]) -> Callable[[int | None], str]:
    """``convert``, then its CSV text ('' for null), memoised per stored value."""
    cache: dict[int | None, str] = {}

    def text(tenths: int | None) -> str:
        found = cache.get(tenths)
        if found is None:
            value = convert(tenths)
            found = cache[tenths] = "" if value is None else repr(value)
        return found

    return text


_C_TEXT = _as_text(tenths_c_to_c)
_F_TEXT = _as_text(tenths_c_to_f)
_MM_TEXT = _as_text(tenths_mm_to_mm)
_IN_TEXT = _as_text(tenths_mm_to_in)


# The CSV rows of the largest export, written out for speed (the columns are
# those of rows.WEATHER). Station ids match [A-Z0-9_-]: no field here ever needs quoting.
def _metric_csv(row: Row) -> str:
    return f"{row[0]},{_day(row[1])},{_C_TEXT(row[2])},{_C_TEXT(row[3])},{_MM_TEXT(row[4])}\r\n"


def _imperial_csv(row: Row) -> str:
    return f"{row[0]},{_day(row[1])},{_F_TEXT(row[2])},{_F_TEXT(row[3])},{_IN_TEXT(row[4])}\r\n"


LISTING = listing.Listing(
    name="weather",
    query_model=WeatherQuery,
    filters=_filters,
    key=rows.WEATHER.key("station_id", "date"),
    parse_key=lambda values: (str(values[0]), date.fromisoformat(values[1])),
    fetch=_fetch,
    to_json={units: rows.WEATHER.to_json(units) for units in Units},
    csv_header={units: rows.WEATHER.header(units) for units in Units},
    to_csv={Units.metric: _metric_csv, Units.imperial: _imperial_csv},
)

ROUTES = [Route("/api/weather", listing.endpoint(LISTING), methods=["GET"])]

OPERATIONS = [
    Operation(
        path="/api/weather",
        summary="Daily observations",
        description=(
            "Daily maximum and minimum temperature and precipitation per station, in "
            "(station_id, date) order. Metric: °C and mm to 0.1; imperial: °F to 0.01 and "
            "inches to 0.001. A value is null when the station did not observe it. "
            "Filter by station, by ISO dates, or by epoch milliseconds (Grafana's "
            "`${__from}`/`${__to}`). Pages follow `next`; `format=csv` streams every row."
        ),
        tag="weather",
        query=WeatherQuery,
        ok=(WeatherPageMetric, WeatherPageImperial),
        csv_header=LISTING.csv_header[Units.metric],
    )
]
