"""Deterministic GHCN-shaped data at any size: station ``.txt``, ``.dly`` and by-station CSV.

Used by the ingest tests and by ``bench/ingest.py``. Nothing here imports
``ingest_job``: the files are written from the published layouts, so that a
parser bug cannot hide in a generator that shares its code. Every value is a
function of (station number, day, element, seed), so the same call writes
the same bytes on every machine. Files are written line by line to disk;
memory stays flat whatever the size.

    write_station_txt(path, station_number=0, years=30)
    write_dly(path, stations=range(3), years=30)
    write_csv(path, stations=range(3), years=30)
    write_sized(folder, "dly", 100 * 2**20)      # one file of about 100 MB
    write_catalogue(folder, "txt", stations=200, years=25)  # one file per station
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Literal

Format = Literal["txt", "dly", "csv"]
FORMATS: tuple[Format, ...] = ("txt", "dly", "csv")

FIRST_YEAR = 1900
# Python's calendar ends at 9999: a single station cannot have more days.
LAST_YEAR = 9999
_MISSING = -9999
_ELEMENTS = ("TMAX", "TMIN", "PRCP", "SNOW")  # SNOW: present in real files, not kept
# Bytes per day, measured on generated files; write_sized uses them to plan.
_BYTES_PER_DAY: dict[Format, float] = {"txt": 28.0, "dly": 4 * 269 / 30.44, "csv": 4 * 34.5}
_WRITE_BUFFER = 1 << 20


def station_id(number: int) -> str:
    """The id of generated station ``number`` (``USZ`` + 8 digits: never a real US id)."""
    return f"USZ{number:08d}"


_TABLE = 65_521  # a prime: (day, station, element) spread over every entry


def value(station: int, ordinal: int, element: int, seed: int = 0) -> int:
    """One day's value in tenths (temperatures) or tenths of mm (precipitation), or -9999."""
    return _VALUES[element][_index(station, ordinal, element, seed)]


def quality_flag(station: int, ordinal: int, element: int, seed: int = 0) -> str:
    """NOAA's quality flag for that value: ``I`` on about 1 value in 500, else blank."""
    return "I" if _index(station, ordinal, element, seed) % 499 == 0 else " "


def _index(station: int, ordinal: int, element: int, seed: int) -> int:
    return (ordinal * 31 + station * 7_919 + seed * 104_729 + element * 17) % _TABLE


def _table(element: int) -> list[int]:
    """A fixed pseudo-random series (an integer hash): about 3 % missing."""
    out = []
    for i in range(_TABLE):
        h = (i * 2_654_435_761 + element * 40_503) & 0xFFFFFFFF
        h = (h ^ (h >> 15)) * 2_246_822_519 & 0xFFFFFFFF
        h ^= h >> 13
        if h % 33 == 0:
            out.append(_MISSING)
        elif element == 0:
            out.append(h % 500 - 150)
        elif element == 1:
            out.append(h % 400 - 250)
        else:
            out.append(0 if h % 3 else h % 600)
    return out


_VALUES = [_table(e) for e in range(len(_ELEMENTS))]
# Pre-formatted fields: the writers only index and join.
_TXT = [[f"{v:5d}" for v in values] for values in _VALUES]
_DLY = [
    [f"{v:5d} {'I' if i % 499 == 0 and v != _MISSING else ' '}7" for i, v in enumerate(values)]
    for values in _VALUES
]
_CSV = [
    [f"{v},,{'I' if i % 499 == 0 else ''},7,0700" if v != _MISSING else "" for i, v in
     enumerate(values)]
    for values in _VALUES
]  # fmt: skip
_DLY_MISSING = f"{_MISSING:5d}  7"


_MONTH_DAYS = {
    leap: [f"{m:02d}{d:02d}" for m in range(1, 13)
           for d in range(1, calendar.monthrange(2000 if leap else 2001, m)[1] + 1)]
    for leap in (False, True)
}  # fmt: skip


def _days(first_year: int, years: int) -> Iterator[tuple[int, str]]:
    """(ordinal, ``YYYYMMDD``) of every day of the years, in order."""
    ordinal = date(first_year, 1, 1).toordinal()
    for year in range(first_year, min(first_year + years, LAST_YEAR + 1)):
        prefix = f"{year:04d}"
        for month_day in _MONTH_DAYS[calendar.isleap(year)]:
            yield ordinal, prefix + month_day
            ordinal += 1


class _Writer:
    """Buffered text lines to a file (one write per megabyte)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("wb")
        self._parts: list[str] = []
        self._size = 0
        self.written = 0

    def line(self, text: str) -> None:
        self._parts.append(text)
        self._size += len(text) + 1
        if self._size >= _WRITE_BUFFER:
            self.flush()

    def flush(self) -> None:
        if self._parts:
            data = ("\n".join(self._parts) + "\n").encode()
            self._file.write(data)
            self.written += len(data)
            self._parts, self._size = [], 0

    def close(self) -> int:
        self.flush()
        self._file.close()
        return self.written


def write_station_txt(
    path: Path, station_number: int = 0, *, years: int = 30, first_year: int = FIRST_YEAR,
    seed: int = 0, max_bytes: int | None = None,
) -> int:  # fmt: skip
    """``<ID>.txt``: one line per day; returns the bytes written.

    With ``max_bytes`` the file stops at that size; past year 9999 the dates
    start again from ``first_year`` (such a file has dates twice: it is a
    malformed file of that size, the only kind a station file can be beyond
    about 100 MB).
    """
    out = _Writer(path)
    base = seed * 104_729
    while True:
        for ordinal, text in _days(first_year, years):
            i = (ordinal * 31 + station_number * 7_919 + base) % _TABLE
            out.line(f"{text}\t{_TXT[0][i]}\t{_TXT[1][(i + 17) % _TABLE]}"
                     f"\t{_TXT[2][(i + 34) % _TABLE]}")  # fmt: skip
            if max_bytes is not None and out.written + out._size >= max_bytes:
                return out.close()
        if max_bytes is None:
            return out.close()


def _month_blocks(station: int, year: int, month: int, element: int, seed: int) -> str:
    first = date(year, month, 1).toordinal()
    length = calendar.monthrange(year, month)[1]
    table = _DLY[element]
    start = (first * 31 + station * 7_919 + seed * 104_729 + element * 17) % _TABLE
    blocks = [table[(start + 31 * k) % _TABLE] for k in range(length)]
    return "".join(blocks) + _DLY_MISSING * (31 - length)


def write_dly(
    path: Path, stations: Iterable[int] = (0,), *, years: int = 30,
    first_year: int = FIRST_YEAR, seed: int = 0, max_bytes: int | None = None,
) -> int:  # fmt: skip
    """A ``.dly`` file: per station, year and month, one line per element; returns the bytes."""
    out = _Writer(path)
    for station in stations:
        sid = station_id(station)
        for year in range(first_year, min(first_year + years, LAST_YEAR + 1)):
            for month in range(1, 13):
                for element, name in enumerate(_ELEMENTS):
                    blocks = _month_blocks(station, year, month, element, seed)
                    out.line(f"{sid}{year:04d}{month:02d}{name}{blocks}")
            if max_bytes is not None and out.written + out._size >= max_bytes:
                return out.close()
    return out.close()


def write_csv(
    path: Path, stations: Iterable[int] = (0,), *, years: int = 30,
    first_year: int = FIRST_YEAR, seed: int = 0, max_bytes: int | None = None,
) -> int:  # fmt: skip
    """A by-station CSV (NOAA's header, one line per station, day and element); returns bytes."""
    out = _Writer(path)
    out.line("ID,DATE,ELEMENT,DATA_VALUE,M_FLAG,Q_FLAG,S_FLAG,OBS_TIME")
    for station in stations:
        sid = station_id(station)
        for ordinal, day in _days(first_year, years):
            i = (ordinal * 31 + station * 7_919 + seed * 104_729) % _TABLE
            text = f"{sid},{day},"
            for element, name in enumerate(_ELEMENTS):
                field = _CSV[element][(i + element * 17) % _TABLE]
                if field:
                    out.line(f"{text}{name},{field}")
            if max_bytes is not None and out.written + out._size >= max_bytes:
                return out.close()
    return out.close()


def file_name(fmt: Format, station_number: int) -> str:
    """The name a file of ``fmt`` for one station has (``USZ00000007.dly``)."""
    return f"{station_id(station_number)}.{fmt}"


def write_sized(folder: Path, fmt: Format, size: int, *, seed: int = 0) -> Path:
    """One file of ``fmt`` of about ``size`` bytes (within a line or a month), named for station 0.

    ``.dly`` and CSV files past one station's 8,100 years hold more stations;
    a station ``.txt`` that large cannot be valid (see :func:`write_station_txt`).
    """
    path = folder / file_name(fmt, 0)
    days = int(size / _BYTES_PER_DAY[fmt]) + 1
    if fmt == "txt":
        write_station_txt(path, years=LAST_YEAR, first_year=1, seed=seed, max_bytes=size)
        return path
    per_station = 3000
    stations = range(days // (per_station * 365) + 1)
    writer = write_dly if fmt == "dly" else write_csv
    writer(path, stations, years=per_station, first_year=1000, seed=seed, max_bytes=size)
    return path


def write_catalogue(
    folder: Path, fmt: Format, *, stations: int, years: int, first: int = 0, seed: int = 0
) -> list[Path]:
    """One file per station (``stations`` of them, ``years`` each), as in NOAA's bucket."""
    paths = []
    for number in range(first, first + stations):
        path = folder / file_name(fmt, number)
        if fmt == "txt":
            write_station_txt(path, number, years=years, seed=seed)
        elif fmt == "dly":
            write_dly(path, (number,), years=years, seed=seed)
        else:
            write_csv(path, (number,), years=years, seed=seed)
        paths.append(path)
    return paths
