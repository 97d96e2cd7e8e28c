"""The GHCN-Daily elements the warehouse keeps, and how one value is judged.

Shared by the ``.dly`` and by-station CSV parsers: both give one value per
station, day and element, with NOAA's flags. :class:`DayRows` gathers the
values of each day into one observation row and hands rows out in groups,
so that a file of any size is held a window of days at a time.
"""

from __future__ import annotations

from datetime import date
from functools import cache

from ingest_job.formats.base import MISSING, SMALLINT, LineParser, Parsed, copy_row

# Element -> position in an observation row (tmax, tmin, prcp).
KEPT = {"TMAX": 0, "TMIN": 1, "PRCP": 2}

# Days held before rows are handed out (at the next change of station and month or day).
WINDOW = 20_000
# Per station-year and day of the year: the elements seen (bits 0-2), and
# whether the day's row was already handed out (bit 3).
_EMITTED = 8


@cache
def _new_year(year: int) -> int:
    return date(year, 1, 1).toordinal()


class DayRows:
    """The rows of a file's days: values in, COPY rows out a window at a time.

    Memory: the window, plus 366 bytes per station-year of the file (a
    station's whole record is a few tens of kilobytes).
    """

    def __init__(self, result: Parsed) -> None:
        self.result = result
        self.pending: dict[tuple[str, int], list[int | None]] = {}
        self.flags: dict[tuple[str, int], bytearray] = {}

    def add(
        self,
        line: int,
        *,
        station: str,
        day: date,
        element: str,
        value: int,
        quality_flag: str,
    ) -> None:
        """Record a value: refused twice, skipped if missing, counted if flagged, range-checked."""
        flags = self.flags.get((station, day.year))
        if flags is None:
            flags = self.flags[station, day.year] = bytearray(366)
        ordinal = day.toordinal()
        index = ordinal - _new_year(day.year)
        seen = flags[index]
        position = KEPT[element]
        if seen & (1 << position):
            self.result.reject(line, f"{element} for {day.isoformat()} appears twice")
            return
        flags[index] = seen | (1 << position)
        if value == MISSING:
            return
        if quality_flag.strip():
            # NOAA flagged the value as failing a quality check: not loaded, counted.
            self.result.values_rejected_qc += 1
            return
        low, high = (0, 2_147_483_647) if element == "PRCP" else SMALLINT
        if not low <= value <= high:
            self.result.reject(line, f"{element} {value} on {day.isoformat()} is out of range")
            return
        row = self.pending.get((station, ordinal))
        if row is None:
            if seen & _EMITTED:
                self.result.partial = True  # the day's other values already went out
            row = self.pending[station, ordinal] = [None, None, None]
        row[position] = value

    def flush_if_full(self) -> bytes:
        """The held rows when the window is full (call between two groups of lines)."""
        return self.flush() if len(self.pending) >= WINDOW else b""

    def flush(self) -> bytes:
        """Every held row, in key order, as COPY text (nothing once the file has a bad line)."""
        if not self.pending:
            return b""
        if not self.result.ok:
            self.pending.clear()
            return b""
        out = []
        stations = set()
        for station, ordinal in sorted(self.pending):
            day = date.fromordinal(ordinal)
            self.flags[station, day.year][ordinal - _new_year(day.year)] |= _EMITTED
            out.append(copy_row((station, day.isoformat(), *self.pending[station, ordinal])))
            stations.add(station)
        self.result.rows += len(out)
        if not stations <= self.result.stations:
            self.result.stations = self.result.stations | stations
        self.pending.clear()
        return b"".join(out)


class DailyParser(LineParser):
    """A format of daily values per station and element: rows go out a station-day at a time."""

    table = "observation"

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.days = DayRows(self.result)

    def finish(self) -> bytes:
        return self.days.flush()
