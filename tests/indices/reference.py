"""The reference: every index of every station-year of the shipped data, computed by xclim.

The station files are read as they ship (``-9999`` = missing) into one
(station, day) array from 1985-01-01 to 2014-12-31, missing days as NaN, and
xclim's yearly indicators (``freq="YS"``) compute each index. xclim's
missing-value check is set to the warehouse's rule (docs/indices.md): a
year with more than 15 missing days of an input gives NaN, as does a season
(1 May - 30 September, 153 days) with more than 15. ``missing="pct"`` nulls
a period when missing / expected >= tolerance: 0.0425 lies above 15/365 and
below 16/366, 0.1 above 15/153 and below 16/153.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
import xclim
from xclim import atmos
from xclim.core.units import convert_units_to

FIRST, LAST = "1985-01-01", "2014-12-31"
YEAR_TOLERANCE = 0.0425
SEASON_TOLERANCE = 0.1
SEASON = ("05-01", "09-30")
Inputs = dict[str, xr.DataArray]
# Index name -> (xclim computation, the unit it is served in, is a season index).
Indicator = Callable[[Inputs], xr.DataArray]


def read_stations(wx_data: Path) -> Inputs:
    """tasmax, tasmin (degC), pr (mm/d) and tas86 (the 86/50 mean) of every station file."""
    days = pd.date_range(FIRST, LAST, freq="D")
    files = sorted(wx_data.glob("*.txt"))
    values = np.full((3, len(files), len(days)), np.nan)
    for i, path in enumerate(files):
        table = pd.read_csv(path, sep=r"\s+", header=None, names=["d", "tx", "tn", "pr"])
        at = days.get_indexer(pd.to_datetime(table["d"].astype(str), format="%Y%m%d"))
        for v, column in enumerate(("tx", "tn", "pr")):
            raw = table[column].to_numpy(dtype=float)
            values[v, i, at] = np.where(raw == -9999, np.nan, raw / 10)
    coords = {"station": [p.stem for p in files], "time": days}

    def array(v: np.ndarray, units: str, standard_name: str) -> xr.DataArray:
        attrs = {"units": units, "standard_name": standard_name}
        return xr.DataArray(v, dims=("station", "time"), coords=coords, attrs=attrs)

    tx, tn = values[0], values[1]
    # corn growing degree days, 86/50: TX capped at 30 degC, TN floored at 10 degC
    tas86 = (np.minimum(tx, 30) + np.maximum(tn, 10)) / 2
    return {
        "tasmax": array(tx, "degC", "air_temperature"),
        "tasmin": array(tn, "degC", "air_temperature"),
        "pr": array(values[2], "mm/d", "precipitation_flux"),
        "tas86": array(tas86, "degC", "air_temperature"),
    }


def _temperature(out: xr.DataArray) -> xr.DataArray:
    return convert_units_to(out, "degC")


INDICATORS: dict[str, Indicator] = {
    "fd": lambda d: atmos.frost_days(tasmin=d["tasmin"], thresh="0 degC"),
    "su": lambda d: atmos.tx_days_above(tasmax=d["tasmax"], thresh="25 degC"),
    "id": lambda d: atmos.ice_days(tasmax=d["tasmax"], thresh="0 degC"),
    "tr": lambda d: atmos.tropical_nights(tasmin=d["tasmin"], thresh="20 degC"),
    "txx": lambda d: _temperature(atmos.tx_max(tasmax=d["tasmax"])),
    "txn": lambda d: _temperature(atmos.tx_min(tasmax=d["tasmax"])),
    "tnx": lambda d: _temperature(atmos.tn_max(tasmin=d["tasmin"])),
    "tnn": lambda d: _temperature(atmos.tn_min(tasmin=d["tasmin"])),
    # a difference: K and degC have the same magnitude
    "dtr": lambda d: atmos.daily_temperature_range(tasmin=d["tasmin"], tasmax=d["tasmax"]),
    "rx1day": lambda d: atmos.max_1day_precipitation_amount(pr=d["pr"]),
    "rx5day": lambda d: atmos.max_n_day_precipitation_amount(pr=d["pr"], window=5),
    "sdii": lambda d: atmos.daily_pr_intensity(pr=d["pr"], thresh="1 mm/day"),
    "r10mm": lambda d: atmos.wetdays(pr=d["pr"], thresh="10 mm/day"),
    "r20mm": lambda d: atmos.wetdays(pr=d["pr"], thresh="20 mm/day"),
    "cdd": lambda d: atmos.maximum_consecutive_dry_days(pr=d["pr"], thresh="1 mm/day"),
    "cwd": lambda d: atmos.maximum_consecutive_wet_days(pr=d["pr"], thresh="1 mm/day"),
    "prcptot": lambda d: atmos.wet_precip_accumulation(pr=d["pr"], thresh="1 mm/day"),
    "last_spring_frost": lambda d: atmos.last_spring_frost(
        tasmin=d["tasmin"], thresh="0 degC", op="<=", before_date="07-01"
    ),
    "first_autumn_frost": lambda d: atmos.first_day_tn_below(
        tasmin=d["tasmin"], thresh="0 degC", op="<=", after_date="07-01"
    ),
}
SEASON_INDICATORS: dict[str, Indicator] = {
    "gdd": lambda d: atmos.growing_degree_days(
        tas=d["tas86"], thresh="10 degC", date_bounds=SEASON
    ),
    "season_prcp": lambda d: atmos.precip_accumulation(pr=d["pr"], date_bounds=SEASON),
}
DATES = ("last_spring_frost", "first_autumn_frost")


def compute(name: str, inputs: Inputs) -> dict[tuple[str, int], float | date | None]:
    """Index ``name`` of every station-year, by xclim: None where xclim gives NaN."""
    season = name in SEASON_INDICATORS
    indicator = (SEASON_INDICATORS if season else INDICATORS)[name]
    tolerance = SEASON_TOLERANCE if season else YEAR_TOLERANCE
    with (
        warnings.catch_warnings(),
        xclim.set_options(
            check_missing="pct",
            missing_options={"pct": {"tolerance": tolerance}},
            data_validation="log",
            cf_compliance="log",
        ),
    ):
        warnings.simplefilter("ignore")
        out = indicator(inputs)
    years = out["time"].dt.year.values
    found: dict[tuple[str, int], float | date | None] = {}
    for i, station in enumerate(out["station"].values):
        for j, year in enumerate(years):
            value = float(out.values[i, j])
            found[(str(station), int(year))] = _value(name, int(year), value)
    return found


def _value(name: str, year: int, value: float) -> float | date | None:
    if np.isnan(value):
        return None
    if name in DATES:  # xclim gives the day of the year
        return date(year, 1, 1) + timedelta(days=int(value) - 1)
    return value
