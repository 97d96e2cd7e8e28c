"""Query parameters: every query string is validated by one of these models.

Unknown parameters are refused, so a typo never silently widens a query; the
models also give the parameters of the OpenAPI document.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from service.units import Units

STATION_ID_PATTERN = r"^[A-Z0-9][A-Z0-9_-]{0,31}$"
StationId = Annotated[
    str,
    StringConstraints(pattern=STATION_ID_PATTERN),
    Field(description="Station identifier, e.g. `USC00110072`."),
]
Year = Annotated[int, Field(ge=1000, le=9999)]
# Epoch milliseconds within the dates PostgreSQL and Python both handle.
EpochMs = Annotated[int, Field(ge=-62_135_596_800_000, le=253_402_300_799_999)]
MAX_STATION_FILTER = 100
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
ISO_DATE_FORM = "an ISO 8601 date, YYYY-MM-DD (e.g. 2020-01-31)"


def _iso_date(value: object) -> object:
    """Only ``YYYY-MM-DD``: pydantic's lax ``date`` would read ``0`` or ``86400`` as Unix time."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError(f"must be {ISO_DATE_FORM}")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"must be {ISO_DATE_FORM}: {exc}") from None


# A date query parameter: the JSON schema stays ``format: date``.
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
# The station filter of the weather and stats lists: one meaning, one definition.
StationFilter = Annotated[
    list[StationId],
    Field(
        max_length=MAX_STATION_FILTER,
        description="One or several stations (repeat the parameter). All stations if absent.",
    ),
]


class Format(StrEnum):
    """Representation of a list: JSON pages (default), or a CSV or NDJSON stream of every row."""

    json = "json"
    csv = "csv"
    ndjson = "ndjson"


class ListQuery(BaseModel):
    """Parameters every list endpoint takes."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)

    limit: int = Field(
        default=100,
        ge=1,
        le=1000,
        description="Rows per page (JSON). CSV and NDJSON stream every row.",
    )
    cursor: str | None = Field(
        default=None,
        min_length=1,
        max_length=1024,
        # payload.signature, as service.lists.pagination writes it
        pattern=r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$",
        description="Opaque cursor from a previous page's `next`; bound to the same filters.",
    )
    units: Units = Field(
        default=Units.metric,
        description="`metric` (°C, mm, cm) or `imperial` (°F, in); field names carry the unit.",
    )
    format: Format | None = Field(
        default=None,
        description="`json`, `csv` or `ndjson`; wins over the `Accept` header.",
    )


class WeatherQuery(ListQuery):
    """Filters of ``GET /api/weather``."""

    station_id: StationFilter = Field(default_factory=list)
    start_date: IsoDate | None = Field(default=None, description="First day, ISO 8601 (inclusive).")
    end_date: IsoDate | None = Field(default=None, description="Last day, ISO 8601 (inclusive).")
    from_ms: EpochMs | None = Field(
        default=None,
        alias="from",
        description="Start as Unix epoch milliseconds (Grafana `${__from}`); its UTC day.",
    )
    to_ms: EpochMs | None = Field(
        default=None,
        alias="to",
        description="End as Unix epoch milliseconds (Grafana `${__to}`); its UTC day.",
    )

    @field_validator("end_date")
    @classmethod
    def _end_after_start(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("start_date")
        if value is not None and start is not None and value < start:
            raise ValueError("is before start_date")
        return value

    @field_validator("from_ms")
    @classmethod
    def _from_or_start_date(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and info.data.get("start_date") is not None:
            raise ValueError("give either start_date or from, not both")
        return value

    @field_validator("to_ms")
    @classmethod
    def _to_or_end_date(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and info.data.get("end_date") is not None:
            raise ValueError("give either end_date or to, not both")
        start = info.data.get("from_ms")
        if value is not None and start is not None and value < start:
            raise ValueError("is before from")
        return value

    @property
    def first_day(self) -> date | None:
        """The inclusive start of the range, whichever way it was given."""
        return self.start_date if self.from_ms is None else _utc_day(self.from_ms)

    @property
    def last_day(self) -> date | None:
        """The inclusive end of the range, whichever way it was given."""
        return self.end_date if self.to_ms is None else _utc_day(self.to_ms)


def _utc_day(epoch_ms: int) -> date:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).date()


class StatsQuery(ListQuery):
    """Filters of ``GET /api/weather/stats``."""

    station_id: StationFilter = Field(default_factory=list)
    year: Year | None = Field(default=None, description="One year.")
    start_year: Year | None = Field(default=None, description="First year (inclusive).")
    end_year: Year | None = Field(default=None, description="Last year (inclusive).")

    @field_validator("start_year", "end_year")
    @classmethod
    def _year_or_range(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and info.data.get("year") is not None:
            raise ValueError("give either year or start_year/end_year, not both")
        start = info.data.get("start_year")
        if info.field_name == "end_year" and value is not None and start is not None:
            _not_before(value, start)
        return value

    @property
    def first_year(self) -> int | None:
        """The inclusive start of the year range."""
        return self.year if self.year is not None else self.start_year

    @property
    def last_year(self) -> int | None:
        """The inclusive end of the year range."""
        return self.year if self.year is not None else self.end_year


class MonthlyStatsQuery(StatsQuery):
    """Filters of ``GET /api/weather/stats/monthly``: those of the yearly list and a month."""

    month: Annotated[int, Field(ge=1, le=12)] | None = Field(
        default=None, description="One calendar month (1-12) of every year, e.g. 7 for July."
    )


class IndexName(StrEnum):
    """A climate or crop-season index (docs/indices.md)."""

    fd = "fd"
    su = "su"
    id = "id"
    tr = "tr"
    txx = "txx"
    txn = "txn"
    tnx = "tnx"
    tnn = "tnn"
    dtr = "dtr"
    rx1day = "rx1day"
    rx5day = "rx5day"
    sdii = "sdii"
    r10mm = "r10mm"
    r20mm = "r20mm"
    cdd = "cdd"
    cwd = "cwd"
    prcptot = "prcptot"
    gdd = "gdd"
    season_prcp = "season_prcp"
    last_spring_frost = "last_spring_frost"
    first_autumn_frost = "first_autumn_frost"


IndexFilter = Annotated[
    list[IndexName],
    Field(
        max_length=len(IndexName),
        description="Only these indices in each row (repeat the parameter). All if absent.",
    ),
]


class IndicesQuery(StatsQuery):
    """Filters of ``GET /api/weather/indices``: those of the yearly statistics and indices."""

    index: IndexFilter = Field(default_factory=list)


class YieldIndicesQuery(StatsQuery):
    """Filters of ``GET /api/yield/indices``: the stations to average over, years, indices."""

    station_id: StationFilter = Field(
        default_factory=list,
        description="The stations whose indices are averaged (repeat). All stations if absent.",
    )
    index: IndexFilter = Field(default_factory=list)


def _not_before(end: int, start: int) -> None:
    if end < start:
        raise ValueError("is before start_year")


class YieldQuery(ListQuery):
    """Filters of ``GET /api/yield``."""

    start_year: Year | None = Field(default=None, description="First year (inclusive).")
    end_year: Year | None = Field(default=None, description="Last year (inclusive).")

    @field_validator("end_year")
    @classmethod
    def _end_after_start(cls, value: int | None, info: ValidationInfo) -> int | None:
        start = info.data.get("start_year")
        if value is not None and start is not None:
            _not_before(value, start)
        return value


class StationsQuery(ListQuery):
    """``GET /api/stations`` takes only the list parameters."""


class FreshnessQuery(BaseModel):
    """``GET /api/freshness`` takes no parameters."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class FreshnessStationsQuery(ListQuery):
    """Filters of ``GET /api/freshness/stations``."""

    station_id: StationFilter = Field(default_factory=list)
    stale_before: IsoDate | None = Field(
        default=None,
        description="Only stations whose data end before this day (ISO 8601): the late ones.",
    )


_NUMBER = r"-?[0-9]{1,3}(\.[0-9]{1,12})?"
BBOX_PATTERN = rf"^{_NUMBER},{_NUMBER},{_NUMBER},{_NUMBER}$"


class StationSearchQuery(ListQuery):
    """Filters of ``GET /api/stations/search``; given together, a station must match both."""

    q: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        pattern=r"[^\W_]",
        description=(
            "Station id prefix (`USC0011`), or words each starting a word of the name, in any "
            "case (`seattle tac` finds SEATTLE TACOMA INTL AP)."
        ),
    )
    bbox: str | None = Field(
        default=None,
        pattern=BBOX_PATTERN,
        description=(
            "Bounding box `min_lon,min_lat,max_lon,max_lat` in degrees (WGS 84, as in OGC API "
            "Features); `min_lon` > `max_lon` crosses the antimeridian. Stations without "
            "coordinates are never inside."
        ),
    )

    @field_validator("bbox")
    @classmethod
    def _valid_box(cls, value: str | None) -> str | None:
        if value is None:
            return None
        lon_min, lat_min, lon_max, lat_max = (float(part) for part in value.split(","))
        if not all(-180 <= lon <= 180 for lon in (lon_min, lon_max)):
            raise ValueError("longitudes must be within -180..180")
        if not all(-90 <= lat <= 90 for lat in (lat_min, lat_max)):
            raise ValueError("latitudes must be within -90..90")
        if lat_min > lat_max:
            raise ValueError("min_lat is above max_lat")
        return value

    @property
    def box(self) -> tuple[float, float, float, float] | None:
        """The box as numbers: min_lon, min_lat, max_lon, max_lat."""
        if self.bbox is None:
            return None
        lon_min, lat_min, lon_max, lat_max = (float(part) for part in self.bbox.split(","))
        return lon_min, lat_min, lon_max, lat_max


class NearestQuery(ListQuery):
    """Parameters of ``GET /api/stations/nearest``."""

    lat: float = Field(ge=-90, le=90, description="Latitude of the point, degrees (WGS 84).")
    lon: float = Field(ge=-180, le=180, description="Longitude of the point, degrees (WGS 84).")
    max_km: float | None = Field(
        default=None,
        gt=0,
        le=20_016,
        description="Only stations within this great-circle distance, km (all if absent).",
    )


class StationQuery(BaseModel):
    """``GET /api/stations/{station_id}`` takes only the units."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    units: Units = Field(default=Units.metric, description="`metric` or `imperial`.")


class UploadQuery(BaseModel):
    """``POST /api/uploads`` takes the file's name (or it comes with a form's file)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: (
        Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")] | None
    ) = Field(
        default=None,
        description=(
            "The file's base name, e.g. `USC00110072.txt` (no folders). Required with a raw "
            "body; a form's file part brings its own."
        ),
    )
