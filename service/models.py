"""Response models: what the endpoints send, as the OpenAPI document describes it.

The endpoints build plain dicts for speed, and the test suite checks every
response against these schemas through ``/openapi.json``. The rows of the
lists and their pages come from the tables of :mod:`service.rows`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from service import rows
from service.units import Units

_ROW = ConfigDict(extra="forbid")


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


# The rows of each list, and their pages, come from the tables of service/rows.py.
_PAGES = (
    (rows.WEATHER, "daily observations"),
    (rows.STATS, "yearly statistics"),
    (rows.MONTHLY, "monthly statistics"),
    (rows.YIELD, "yearly corn yields"),
    (rows.INDICES, "climate and crop-season indices per station and year"),
    (rows.YIELD_INDICES, "corn yields beside mean indices"),
    (rows.STATION, "stations"),
    (rows.NEAR_STATION, "stations, nearest first"),
)
(
    (WeatherPageMetric, WeatherPageImperial),
    (StatsPageMetric, StatsPageImperial),
    (MonthlyStatsPageMetric, MonthlyStatsPageImperial),
    (YieldPageMetric, YieldPageImperial),
    (IndicesPageMetric, IndicesPageImperial),
    (YieldIndicesPageMetric, YieldIndicesPageImperial),
    (StationPageMetric, StationPageImperial),
    (NearStationPageMetric, NearStationPageImperial),
) = (
    tuple(rows.page(row, units, f"A page of {what}, {units.value}.", _Page) for units in Units)
    for row, what in _PAGES
)
StationMetric = rows.STATION.model(Units.metric)
StationImperial = rows.STATION.model(Units.imperial)


class StationDetailMetric(StationMetric):  # type: ignore[misc, valid-type]
    """One station, metric."""

    units: Literal["metric"]


class StationDetailImperial(StationImperial):  # type: ignore[misc, valid-type]
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


class Health(BaseModel):
    """Liveness or readiness."""

    status: Literal["ok", "unavailable"]


class UploadAccepted(BaseModel):
    """Where an accepted upload was stored for the next ingest run."""

    location: str = Field(description="`s3://bucket/key` of the stored file.")
    name: str
    size_bytes: int
    rows: int = Field(description="Rows the parser read from the file.")
