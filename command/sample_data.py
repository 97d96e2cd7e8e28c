"""A generated sample data set, shaped exactly like the real source files.

``make run`` needs data on a machine that has none. This module writes a
station file per station (``wx_data/<ID>.txt``: ``YYYYMMDD``, max and min
temperature in tenths of a degree Celsius, precipitation in tenths of a
millimetre, tab-separated and space-padded to five characters, ``-9999`` for
a missing value) and the yield file ``yld_data/US_corn_grain_yield.txt``
(year, thousands of metric tons), byte for byte in the layout of the real
files.

The values are invented but plausible: cooperative-observer stations of five
Midwest states with GHCN-like ids, whole-degree Fahrenheit readings converted
to tenths of a degree Celsius (as the real files are), a seasonal cycle that
depends on latitude, day-to-day persistence, wet and dry spells with skewed
rain amounts, a little warming over the decades, gaps of missing values,
stations that open late or close early, and a corn yield that grows with
droughts in it. The same seed always gives the same bytes: every random draw
comes from a generator seeded by the seed and the station's id.
"""

from __future__ import annotations

import math
import os
import random
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

DEFAULT_SEED = 1985
WEATHER_FOLDER = "wx_data"
YIELD_FOLDER = "yld_data"
YIELD_FILE = "US_corn_grain_yield.txt"
MISSING = -9999

# NCDC state code, latitude range, longitude range of the stations drawn there.
_STATES: tuple[tuple[str, tuple[float, float], tuple[float, float]], ...] = (
    ("11", (37.1, 42.4), (-91.3, -87.6)),  # Illinois
    ("12", (37.9, 41.7), (-87.9, -84.9)),  # Indiana
    ("13", (40.5, 43.4), (-96.3, -90.3)),  # Iowa
    ("25", (40.1, 42.9), (-103.9, -95.5)),  # Nebraska
    ("33", (38.5, 41.8), (-84.7, -80.6)),  # Ohio
)


@dataclass(frozen=True)
class SampleSpec:
    """What to generate: the seed, how many stations, which years."""

    seed: int = DEFAULT_SEED
    stations: int = 30
    first_year: int = 1985
    last_year: int = 2014

    def __post_init__(self) -> None:
        if not 1 <= self.stations <= 5000:
            raise ValueError("stations must be between 1 and 5000")
        if not 1800 <= self.first_year <= self.last_year <= 9999:
            raise ValueError("years must satisfy 1800 <= first_year <= last_year <= 9999")


@dataclass(frozen=True)
class Station:
    """One invented station: its id, where it is, and when it reported."""

    station_id: str
    latitude: float
    longitude: float
    first_day: date
    last_day: date


def _rng(spec: SampleSpec, stream: str) -> random.Random:
    # One generator per station (and for the station list, and the yield) so
    # that a station's values depend only on the seed and its id. Seeding
    # with a string hashes it with SHA-512: stable across runs and machines.
    return random.Random(f"{spec.seed}:{stream}")  # noqa: S311 (invented data, not secrets)


def make_stations(spec: SampleSpec) -> list[Station]:
    """The stations of ``spec``, spread over the states in turn, sorted by id."""
    rng = _rng(spec, "stations")
    first, last = date(spec.first_year, 1, 1), date(spec.last_year, 12, 31)
    span = (last - first).days
    taken: set[str] = set()
    found: list[Station] = []
    for index in range(spec.stations):
        code, (lat_lo, lat_hi), (lon_lo, lon_hi) = _STATES[index % len(_STATES)]
        station_id = f"USC00{code}{rng.randrange(10_000):04d}"
        while station_id in taken:
            station_id = f"USC00{code}{rng.randrange(10_000):04d}"
        taken.add(station_id)
        # Most stations cover the whole period; some open late or close early,
        # as in the real data, but every one keeps at least a year of record.
        opens = first + timedelta(days=rng.randrange(span // 2)) if rng.random() < 0.2 else first
        closes = last - timedelta(days=rng.randrange(span // 3)) if rng.random() < 0.1 else last
        if (closes - opens).days < 366:
            opens, closes = first, last
        found.append(
            Station(
                station_id=station_id,
                latitude=round(rng.uniform(lat_lo, lat_hi), 4),
                longitude=round(rng.uniform(lon_lo, lon_hi), 4),
                first_day=opens,
                last_day=closes,
            )
        )
    return sorted(found, key=lambda s: s.station_id)


def _tenths_c(fahrenheit: int) -> int:
    # Observers read whole degrees Fahrenheit; the files carry tenths of a
    # degree Celsius, so only the values a conversion can produce appear.
    return round((fahrenheit - 32) * 50 / 9)


def _tenths_mm(hundredths_inch: int) -> int:
    return round(hundredths_inch * 2.54)


@dataclass
class _Climate:
    """A station's climate: the parameters behind its daily values."""

    mean_f: float
    amplitude_f: float
    diurnal_f: float
    wet_after_dry: float
    wet_after_wet: float
    missing_rate: float

    @classmethod
    def of(cls, station: Station, rng: random.Random) -> _Climate:
        north = station.latitude - 38.6
        west = -station.longitude - 88.0  # degrees west of central Illinois
        return cls(
            mean_f=53.0 - 2.0 * north + rng.gauss(0, 0.6),
            amplitude_f=25.5 + 0.9 * north + 0.15 * west,
            diurnal_f=19.0 + 0.35 * max(west, 0.0) + rng.gauss(0, 0.8),
            wet_after_dry=max(0.1, 0.22 - 0.005 * west),
            wet_after_wet=max(0.35, 0.5 - 0.005 * west),
            missing_rate=rng.uniform(0.005, 0.025),
        )


@dataclass(frozen=True)
class _Day:
    """A calendar day as the generator needs it, computed once for every station."""

    day: date
    text: str  # YYYYMMDD
    season: float  # -1 in late January, +1 in late July
    years_in: int  # years since the first year of the set


def _calendar(spec: SampleSpec) -> list[_Day]:
    days: list[_Day] = []
    day = date(spec.first_year, 1, 1)
    while day.year <= spec.last_year:
        season = -math.cos(2 * math.pi * (day.timetuple().tm_yday - 20) / 365.25)
        days.append(_Day(day, f"{day:%Y%m%d}", season, day.year - spec.first_year))
        day += timedelta(days=1)
    return days


def station_lines(
    station: Station, spec: SampleSpec, calendar: list[_Day] | None = None
) -> Iterator[str]:
    """The lines of one station file, in date order, each ending with a newline."""
    rng = _rng(spec, station.station_id)
    climate = _Climate.of(station, rng)
    anomaly = 0.0
    wet = False
    gap = 0
    for today in calendar if calendar is not None else _calendar(spec):
        if not station.first_day <= today.day <= station.last_day:
            continue
        season = today.season
        # Weather systems last days: the anomaly is an AR(1) process whose
        # spread is larger in winter than in summer.
        anomaly = 0.72 * anomaly + rng.gauss(0, (6.5 - 2.5 * season) * 0.69)
        wet = rng.random() < (climate.wet_after_wet if wet else climate.wet_after_dry)
        mean = climate.mean_f + climate.amplitude_f * season + 0.04 * today.years_in + anomaly
        diurnal = max(2.0, rng.gauss(climate.diurnal_f * (0.65 if wet else 1.0), 3.0))
        tmin_f = round(mean - diurnal / 2)
        tmax_f = max(tmin_f, round(mean + diurnal / 2))
        prcp = _tenths_mm(_rain_hundredths(rng, season)) if wet else 0
        tmax, tmin = _tenths_c(tmax_f), _tenths_c(tmin_f)
        # Gaps: a broken instrument or an absent observer blanks every value
        # for a few days; single readings go missing on their own too.
        if gap == 0 and rng.random() < climate.missing_rate / 4:
            gap = 1 + int(rng.expovariate(1 / 4))
        if gap > 0:
            gap -= 1
            tmax = tmin = prcp = MISSING
        else:
            if rng.random() < climate.missing_rate:
                tmax = tmin = MISSING
            if rng.random() < climate.missing_rate:
                prcp = MISSING
        if rng.random() >= 0.008:  # a few days have no line at all
            yield f"{today.text}\t{tmax:5d}\t{tmin:5d}\t{prcp:5d}\n"


def _rain_hundredths(rng: random.Random, season: float) -> int:
    # Most wet days bring a little; a few storms bring a lot (a skewed
    # mixture), and summer storms are heavier than winter ones.
    mean_inches = 0.1 if rng.random() < 0.55 else 0.55 + 0.15 * season
    return max(1, round(100 * rng.expovariate(1 / mean_inches)))


def yield_lines(spec: SampleSpec) -> Iterator[str]:
    """The lines of the yield file: year and US corn yield in thousands of metric tons."""
    rng = _rng(spec, "yield")
    for year in range(spec.first_year, spec.last_year + 1):
        trend = 205_000 + 5_000 * (year - 1985)
        shock = 0.72 if rng.random() < 0.1 else 1.0  # a drought year
        yield f"{year}\t{max(0, round(trend * shock * rng.gauss(1.0, 0.05)))}\n"


def write(folder: Path, spec: SampleSpec) -> list[Path]:
    """Write the data set under ``folder`` (``wx_data/``, ``yld_data/``); return the files."""
    written: list[Path] = []
    weather = folder / WEATHER_FOLDER
    weather.mkdir(parents=True, exist_ok=True)
    calendar = _calendar(spec)
    for station in make_stations(spec):
        path = weather / f"{station.station_id}.txt"
        _write_lines(path, station_lines(station, spec, calendar))
        written.append(path)
    crops = folder / YIELD_FOLDER
    crops.mkdir(parents=True, exist_ok=True)
    _write_lines(crops / YIELD_FILE, yield_lines(spec))
    written.append(crops / YIELD_FILE)
    return written


def _write_lines(path: Path, lines: Iterator[str]) -> None:
    with path.open("w", encoding="ascii", newline="\n") as out:
        out.writelines(lines)


def ensure(folder: Path, spec: SampleSpec) -> bool:
    """Generate the data set into ``folder`` unless it is there; True if generated now.

    The set is written into a temporary sibling and renamed into place, so an
    interrupted run never leaves a half-written set that looks complete.
    """
    if folder.is_dir():
        return False
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        write(staging, spec)
        staging.chmod(0o755)  # mkdtemp makes it private; the folder is not secret
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        os.rename(staging, folder)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if folder.is_dir():  # another process generated the same set meanwhile
            return False
        raise
    return True
