"""Each row type of the API, described once: a table of its columns.

A column has a name in each unit system, a type and a conversion from the
stored value; from the table come the JSON row, the CSV header and row, and
the OpenAPI models of both unit systems. The columns stand in the order of
the SELECT that reads them (``service/queries.py``), so a row is read by
name through its table, never by a position written in an endpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from service.lists import csv_stream
from service.units import (
    Units,
    c_to_c,
    c_to_f,
    cm_to_cm,
    cm_to_in,
    index_c_to_f,
    index_delta_c_to_f,
    index_mm_to_in,
    index_value,
    km_to_km,
    km_to_mi,
    kt_to_thousand_bushels,
    m_to_ft,
    tenths_c_to_c,
    tenths_c_to_f,
    tenths_mm_to_in,
    tenths_mm_to_mm,
)

Row = Sequence[Any]
Convert = Callable[[Any], Any]


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Column:
    """One column: its metric name, its imperial name and conversion where they differ."""

    name: str
    type: Any
    metric: Convert = _same
    imperial_name: str | None = None
    imperial: Convert | None = None
    field: Any = None  # a pydantic Field() with constraints, when the type needs them

    def named(self, units: Units) -> str:
        return self.name if units is Units.metric else (self.imperial_name or self.name)

    def convert(self, units: Units) -> Convert | None:
        """The conversion in ``units``, None when the stored value is the answer."""
        found = self.metric if units is Units.metric else (self.imperial or self.metric)
        return None if found is _same else found


@dataclass(frozen=True)
class RowType:
    """A resource's rows: its columns and the model each unit system's rows are checked by."""

    model_name: str  # e.g. "WeatherRow": WeatherRowMetric, WeatherRowImperial
    doc: dict[Units, str]
    columns: tuple[Column, ...]

    def index(self, name: str) -> int:
        """The position of column ``name`` in a row."""
        return next(i for i, c in enumerate(self.columns) if c.name == name)

    def key(self, *names: str) -> Callable[[Row], tuple[Any, ...]]:
        """The keyset of a row: the values of the columns ``names``."""
        positions = [self.index(n) for n in names]
        return lambda row: tuple(row[i] for i in positions)

    def header(self, units: Units) -> tuple[str, ...]:
        """The CSV header (and the JSON field names) in ``units``."""
        return tuple(c.named(units) for c in self.columns)

    def to_json(self, units: Units) -> Callable[[Row], dict[str, Any]]:
        """A row as JSON fields in ``units``."""
        plan = tuple(zip(self.header(units), (c.convert(units) for c in self.columns), strict=True))

        def fields(row: Row) -> dict[str, Any]:
            return {
                name: value if convert is None else convert(value)
                for (name, convert), value in zip(plan, row, strict=False)
            }

        return fields

    def to_csv(self, units: Units) -> Callable[[Row], str]:
        to_json = self.to_json(units)
        return lambda row: csv_stream.line(to_json(row).values())

    def shapes(self) -> dict[str, Any]:
        """A list's ``to_json``, ``csv_header`` and ``to_csv`` in both unit systems."""
        return {
            "to_json": {units: self.to_json(units) for units in Units},
            "csv_header": {units: self.header(units) for units in Units},
            "to_csv": {units: self.to_csv(units) for units in Units},
        }

    def model(self, units: Units) -> type[BaseModel]:
        """The pydantic model of one row in ``units`` (for the OpenAPI document).

        Made once: two classes of one name would be two schemas in the document.
        """
        name = f"{self.model_name}{units.value.title()}"
        if name not in _MODELS:
            fields: dict[str, Any] = {
                c.named(units): (c.type, ... if c.field is None else c.field) for c in self.columns
            }
            _MODELS[name] = create_model(
                name,
                __doc__=self.doc[units],
                __config__=ConfigDict(extra="forbid"),
                __module__=__name__,
                **fields,
            )
        return _MODELS[name]


_MODELS: dict[str, type[BaseModel]] = {}


def joined(name: str, doc: dict[Units, str], *parts: Iterable[Column]) -> RowType:
    """A row type made of column groups that other row types share."""
    return RowType(name, doc, tuple(c for part in parts for c in part))


_STATION_KEY = (Column("station_id", str),)
# The figures of a station-year and a station-month: the same columns, the same rules.
_PERIOD_FIGURES = (
    Column("avg_max_temp_c", float | None, c_to_c, "avg_max_temp_f", c_to_f),
    Column("avg_min_temp_c", float | None, c_to_c, "avg_min_temp_f", c_to_f),
    Column("total_precip_cm", float | None, cm_to_cm, "total_precip_in", cm_to_in),
    Column("max_temp_days", int),
    Column("min_temp_days", int),
    Column("precip_days", int),
)

WEATHER = joined(
    "WeatherRow",
    {
        Units.metric: "One station-day in metric units (°C to 0.1, mm to 0.1); null when not "
        "observed.",
        Units.imperial: "One station-day in imperial units (°F to 0.01, inches to 0.001); null "
        "when not observed.",
    },
    _STATION_KEY,
    (
        Column("date", date),
        Column("max_temp_c", float | None, tenths_c_to_c, "max_temp_f", tenths_c_to_f),
        Column("min_temp_c", float | None, tenths_c_to_c, "min_temp_f", tenths_c_to_f),
        Column("precip_mm", float | None, tenths_mm_to_mm, "precip_in", tenths_mm_to_in),
    ),
)

STATS = joined(
    "StatsRow",
    {
        Units.metric: "One station-year: averages in °C (to 0.000001) and total precipitation "
        "in cm (to 0.01).\n\nA figure is null when the year has no observed value for it; the "
        "day counts\nsay how many observed days stand behind each figure.",
        Units.imperial: "One station-year: averages in °F (0.000001) and total precipitation "
        "in inches (0.001).",
    },
    _STATION_KEY,
    (Column("year", int),),
    _PERIOD_FIGURES,
)

MONTHLY = joined(
    "MonthlyStatsRow",
    {
        Units.metric: "One station-month: averages in °C (to 0.000001) and total precipitation "
        "in cm (to 0.01).\n\nA figure is null when the month has no observed value for it; the "
        "day\ncounts say how many observed days stand behind each figure.",
        Units.imperial: "One station-month: averages in °F (0.000001) and total precipitation "
        "in inches (0.001).",
    },
    _STATION_KEY,
    (Column("year", int), Column("month", int, field=Field(ge=1, le=12))),
    _PERIOD_FIGURES,
)

YIELD = joined(
    "YieldRow",
    {
        Units.metric: "US corn grain harvest of one year, in thousands of metric tons.",
        Units.imperial: "US corn grain harvest of one year, in thousands of bushels (56 lb), "
        "rounded.",
    },
    (
        Column("year", int),
        Column(
            "corn_yield_kt",
            int,
            imperial_name="corn_yield_thousand_bu",
            imperial=kt_to_thousand_bushels,
        ),
    ),
)

# Climate indices (docs/indices.md): the same names in both unit systems.
# Optional in the models: ``index=`` leaves the others out of a row.
_OPTIONAL = Field(default=None)
_TEMPERATURE = ("txx", "txn", "tnx", "tnn")
_DIFFERENCE = ("dtr", "gdd")
_PRECIPITATION = ("rx1day", "rx5day", "sdii", "prcptot", "season_prcp")
_COUNTS = ("fd", "su", "id", "tr", "r10mm", "r20mm", "cdd", "cwd")
INDEX_FIELDS = ("fd", "su", "id", "tr", "txx", "txn", "tnx", "tnn", "dtr", "rx1day", "rx5day",
                "sdii", "r10mm", "r20mm", "cdd", "cwd", "prcptot", "gdd", "season_prcp",
                "last_spring_frost", "first_autumn_frost")  # fmt: skip
INDEX_DAY_COUNTS = ("tx_days", "tn_days", "dtr_days", "pr_days", "gdd_days", "season_pr_days")


def _index_column(name: str, *, mean: bool = False) -> Column:
    """One index as a column; ``mean``: a mean over stations (counts become fractions)."""
    if name in _TEMPERATURE:
        return Column(name, float | None, index_value, None, index_c_to_f, _OPTIONAL)
    if name in _DIFFERENCE:
        return Column(name, float | None, index_value, None, index_delta_c_to_f, _OPTIONAL)
    if name in _PRECIPITATION:
        return Column(name, float | None, index_value, None, index_mm_to_in, _OPTIONAL)
    if mean:  # counts and days of the year, averaged
        return Column(name, float | None, index_value, field=_OPTIONAL)
    return Column(name, (int | None) if name in _COUNTS else (date | None), field=_OPTIONAL)


INDICES = joined(
    "IndicesRow",
    {
        Units.metric: "One station-year's climate and crop-season indices: temperatures in °C, "
        "precipitation in mm, counts in days.\n\nAn index is null when its year (season) misses "
        "more than 15 days of a variable it reads; the *_days fields count the days present.",
        Units.imperial: "One station-year's indices: temperatures in °F, precipitation in inches.",
    },
    _STATION_KEY,
    (Column("year", int),),
    tuple(_index_column(name) for name in INDEX_FIELDS),
    tuple(Column(name, int) for name in INDEX_DAY_COUNTS),
)

# The yield view: the frost dates averaged as days of the year.
YIELD_INDEX_FIELDS = tuple(
    f"{name}_doy" if name.endswith("_frost") else name for name in INDEX_FIELDS
)

YIELD_INDICES = joined(
    "YieldIndicesRow",
    {
        Units.metric: "One year's US corn grain harvest (thousand metric tons) beside the mean of "
        "each index over the chosen stations with a value that year (frost dates as day of "
        "the year).",
        Units.imperial: "One year's US corn harvest (thousand bushels) beside the mean of each "
        "index, °F and inches.",
    },
    YIELD.columns,
    (Column("stations", int),),
    tuple(_index_column(name, mean=True) for name in YIELD_INDEX_FIELDS),
)

_STATION_COLUMNS = (
    *_STATION_KEY,
    Column("name", str | None),
    Column("state", str | None),
    Column("latitude", float | None),
    Column("longitude", float | None),
    Column("elevation_m", float | None, imperial_name="elevation_ft", imperial=m_to_ft),
    Column("first_date", date | None),
    Column("last_date", date | None),
    Column("observation_count", int),
)

STATION = RowType(
    "Station",
    {
        Units.metric: 'A station, its coordinates (when known) and the span of its data ("data '
        'through").',
        Units.imperial: "A station with its elevation in feet.",
    },
    _STATION_COLUMNS,
)


NEAR_STATION = RowType(
    "NearStation",
    {
        Units.metric: "A station and its great-circle distance from the point, in km (to 0.001).",
        Units.imperial: "A station and its great-circle distance from the point, in miles (to "
        "0.001).",
    },
    (
        *_STATION_COLUMNS,
        Column("distance_km", float, km_to_km, "distance_mi", km_to_mi),
    ),
)


def page(row: RowType, units: Units, doc: str, base: type[BaseModel]) -> type[BaseModel]:
    """The model of a page of ``row`` in ``units`` (``base`` holds the paging fields)."""
    fields: dict[str, Any] = {
        "units": (Literal[units.value], ...),
        "data": (list[row.model(units)], ...),  # type: ignore[misc]
    }
    return create_model(
        f"{row.model_name.removesuffix('Row')}Page{units.value.title()}",
        __doc__=doc,
        __base__=base,
        __module__=__name__,
        **fields,
    )
