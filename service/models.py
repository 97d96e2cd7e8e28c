"""Request and response models: the single source of validation and of the OpenAPI document.

Query models validate the query string (unknown parameters are refused, so a
typo never silently widens a query). Response models describe what the
endpoints send; the endpoints build plain dicts for speed, and the test suite
checks every response against these schemas through ``/openapi.json``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Literal

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
        pattern=r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$",  # payload.signature (service.pagination)
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


# Responses ---------------------------------------------------------------

_ROW = ConfigDict(extra="forbid")


class WeatherRowMetric(BaseModel):
    """One station-day in metric units (°C to 0.1, mm to 0.1); null when not observed."""

    model_config = _ROW
    station_id: str
    date: date
    max_temp_c: float | None
    min_temp_c: float | None
    precip_mm: float | None


class WeatherRowImperial(BaseModel):
    """One station-day in imperial units (°F to 0.01, inches to 0.001); null when not observed."""

    model_config = _ROW
    station_id: str
    date: date
    max_temp_f: float | None
    min_temp_f: float | None
    precip_in: float | None


class StatsRowMetric(BaseModel):
    """One station-year: averages in °C (to 0.000001) and total precipitation in cm (to 0.01).

    A figure is null when the year has no observed value for it; the day counts
    say how many observed days stand behind each figure.
    """

    model_config = _ROW
    station_id: str
    year: int
    avg_max_temp_c: float | None
    avg_min_temp_c: float | None
    total_precip_cm: float | None
    max_temp_days: int
    min_temp_days: int
    precip_days: int


class StatsRowImperial(BaseModel):
    """One station-year: averages in °F (0.000001) and total precipitation in inches (0.001)."""

    model_config = _ROW
    station_id: str
    year: int
    avg_max_temp_f: float | None
    avg_min_temp_f: float | None
    total_precip_in: float | None
    max_temp_days: int
    min_temp_days: int
    precip_days: int


class MonthlyStatsRowMetric(BaseModel):
    """One station-month: averages in °C (to 0.000001) and total precipitation in cm (to 0.01).

    A figure is null when the month has no observed value for it; the day
    counts say how many observed days stand behind each figure.
    """

    model_config = _ROW
    station_id: str
    year: int
    month: int = Field(ge=1, le=12)
    avg_max_temp_c: float | None
    avg_min_temp_c: float | None
    total_precip_cm: float | None
    max_temp_days: int
    min_temp_days: int
    precip_days: int


class MonthlyStatsRowImperial(BaseModel):
    """One station-month: averages in °F (0.000001) and total precipitation in inches (0.001)."""

    model_config = _ROW
    station_id: str
    year: int
    month: int = Field(ge=1, le=12)
    avg_max_temp_f: float | None
    avg_min_temp_f: float | None
    total_precip_in: float | None
    max_temp_days: int
    min_temp_days: int
    precip_days: int


class YieldRowMetric(BaseModel):
    """US corn grain harvest of one year, in thousands of metric tons."""

    model_config = _ROW
    year: int
    corn_yield_kt: int


class YieldRowImperial(BaseModel):
    """US corn grain harvest of one year, in thousands of bushels (56 lb), rounded."""

    model_config = _ROW
    year: int
    corn_yield_thousand_bu: int


class StationMetric(BaseModel):
    """A station, its coordinates (when known) and the span of its data ("data through")."""

    model_config = _ROW
    station_id: str
    name: str | None
    state: str | None
    latitude: float | None
    longitude: float | None
    elevation_m: float | None
    first_date: date | None
    last_date: date | None
    observation_count: int


class StationImperial(BaseModel):
    """A station with its elevation in feet."""

    model_config = _ROW
    station_id: str
    name: str | None
    state: str | None
    latitude: float | None
    longitude: float | None
    elevation_ft: float | None
    first_date: date | None
    last_date: date | None
    observation_count: int


class IngestRun(BaseModel):
    """One finished ingest run."""

    model_config = _ROW
    run_id: int
    status: Literal["succeeded", "failed"]
    started_at: datetime
    finished_at: datetime
    rows_inserted: int = Field(description="Rows the run added.")
    rows_updated: int = Field(description="Rows the run changed.")


class Counts(BaseModel):
    """What the warehouse holds."""

    model_config = _ROW
    stations: int = Field(description="Stations known (from data or from the inventory).")
    stations_with_data: int = Field(description="Stations with at least one observation.")
    observations: int = Field(description="Station-days stored.")
    yield_years: int = Field(description="Years of corn yield stored.")


class FreshnessReport(BaseModel):
    """How fresh the data are. `Last-Modified` is `last_run.finished_at` (to the second)."""

    model_config = _ROW
    last_run: IngestRun | None = Field(
        description="The latest finished ingest run, whatever its outcome (null before any)."
    )
    last_successful_run: IngestRun | None = Field(
        description="The latest ingest run that succeeded (null before any)."
    )
    data_from: date | None = Field(description="The earliest observed day of any station.")
    data_through: date | None = Field(description="The latest observed day of any station.")
    counts: Counts


class StationFreshness(BaseModel):
    """One station's data span: its data go through `last_date`."""

    model_config = _ROW
    station_id: str
    first_date: date | None
    last_date: date | None
    observation_count: int
    updated_at: datetime = Field(description="When an ingest run last changed this station.")


class NearStationMetric(StationMetric):
    """A station and its great-circle distance from the point, in km (to 0.001)."""

    distance_km: float


class NearStationImperial(StationImperial):
    """A station and its great-circle distance from the point, in miles (to 0.001)."""

    distance_mi: float


class _Page(BaseModel):
    model_config = ConfigDict(extra="forbid")
    next: str | None = Field(description="URL of the next page, or null on the last page.")
    next_cursor: str | None = Field(
        description=(
            "The `cursor` parameter of the next page (the one in `next`), or null on the last "
            "page: for clients that page by cursor without parsing URLs (Grafana Infinity)."
        )
    )
    limit: int = Field(description="The page size asked for.")
    count: int = Field(description="Rows on this page.")


class WeatherPageMetric(_Page):
    """A page of daily observations, metric."""

    units: Literal["metric"]
    data: list[WeatherRowMetric]


class WeatherPageImperial(_Page):
    """A page of daily observations, imperial."""

    units: Literal["imperial"]
    data: list[WeatherRowImperial]


class StatsPageMetric(_Page):
    """A page of yearly statistics, metric."""

    units: Literal["metric"]
    data: list[StatsRowMetric]


class StatsPageImperial(_Page):
    """A page of yearly statistics, imperial."""

    units: Literal["imperial"]
    data: list[StatsRowImperial]


class MonthlyStatsPageMetric(_Page):
    """A page of monthly statistics, metric."""

    units: Literal["metric"]
    data: list[MonthlyStatsRowMetric]


class MonthlyStatsPageImperial(_Page):
    """A page of monthly statistics, imperial."""

    units: Literal["imperial"]
    data: list[MonthlyStatsRowImperial]


class YieldPageMetric(_Page):
    """A page of yearly corn yields, metric."""

    units: Literal["metric"]
    data: list[YieldRowMetric]


class YieldPageImperial(_Page):
    """A page of yearly corn yields, imperial."""

    units: Literal["imperial"]
    data: list[YieldRowImperial]


class StationPageMetric(_Page):
    """A page of stations, metric."""

    units: Literal["metric"]
    data: list[StationMetric]


class StationPageImperial(_Page):
    """A page of stations, imperial."""

    units: Literal["imperial"]
    data: list[StationImperial]


class NearStationPageMetric(_Page):
    """A page of stations, nearest first, metric."""

    units: Literal["metric"]
    data: list[NearStationMetric]


class NearStationPageImperial(_Page):
    """A page of stations, nearest first, imperial."""

    units: Literal["imperial"]
    data: list[NearStationImperial]


class StationDetailMetric(StationMetric):
    """One station, metric."""

    units: Literal["metric"]


class StationDetailImperial(StationImperial):
    """One station, imperial."""

    units: Literal["imperial"]


class StationFreshnessPage(_Page):
    """A page of stations' data spans (no unit-bearing field: same in both systems)."""

    units: Literal["metric", "imperial"]
    data: list[StationFreshness]


class ParameterError(BaseModel):
    """One rejected parameter."""

    parameter: str
    detail: str


class Problem(BaseModel):
    """RFC 9457 problem details (``application/problem+json``)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None
    errors: list[ParameterError] | None = None


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


class Health(BaseModel):
    """Liveness or readiness."""

    status: Literal["ok", "unavailable"]


class UploadAccepted(BaseModel):
    """Where an accepted upload was stored for the next ingest run."""

    location: str = Field(description="`s3://bucket/key` of the stored file.")
    name: str
    size_bytes: int
    rows: int = Field(description="Rows the parser read from the file.")
