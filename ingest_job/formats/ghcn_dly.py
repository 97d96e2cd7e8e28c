"""NOAA GHCN-Daily ``.dly`` files: one station, month and element per line.

Fixed width: ID (1-11), year (12-15), month (16-17), element (18-21), then 31
day blocks of value (5) and the M, Q, S flags. Only TMAX, TMIN and PRCP are
kept; ``-9999`` is missing; a value with a quality flag is not loaded and is
counted in ``values_rejected_qc``.
"""

from __future__ import annotations

import calendar
from array import array
from datetime import date

from ingest_job.formats import elements
from ingest_job.formats.base import MISSING, Parsed
from ingest_job.formats.station_txt import STATION_ID

FORMAT = "ghcn_dly"
_HEAD = 21
_BLOCK = 8
_LINE_LENGTH = _HEAD + 31 * _BLOCK

Key = tuple[str, int, int, str]  # station, year, month, element


class Parser(elements.DailyParser):
    """A ``.dly`` file, block by block; rows go out at a change of station and month."""

    format = FORMAT

    def __init__(self, name: str) -> None:
        super().__init__(name)
        # (station, year) -> the line of each month's TMAX, TMIN, PRCP (0: not yet).
        self.first_lines: dict[tuple[str, int], array[int]] = {}
        self.group: tuple[str, int, int] | None = None

    def line(self, number: int, raw: bytes, out: list[bytes]) -> None:
        result = self.result
        try:
            line = raw.decode("ascii").ljust(_LINE_LENGTH)
        except UnicodeDecodeError:
            result.reject(number, "not ASCII text")
            return
        key = _key(number, line, result)
        if key is None or key[3] not in elements.KEPT:
            return
        station, year, month, element = key
        if self.group != (station, year, month):
            out.append(self.days.flush_if_full())
            self.group = (station, year, month)
        lines = self.first_lines.get((station, year))
        if lines is None:
            lines = self.first_lines[station, year] = array("I", bytes(4 * 36))
        slot = (month - 1) * 3 + elements.KEPT[element]
        if lines[slot]:
            result.reject(number, f"{element} for {year}-{month:02d} appears twice "
                                  f"(first on line {lines[slot]})")  # fmt: skip
            return
        lines[slot] = number
        _values(number, line, key, self.days, result)


def _key(number: int, line: str, result: Parsed) -> Key | None:
    if len(line) > _LINE_LENGTH:
        result.reject(number, f"line is {len(line)} characters long, expected {_LINE_LENGTH}")
        return None
    station, year, month, element = line[:11], line[11:15], line[15:17], line[17:21]
    if not STATION_ID.fullmatch(station):
        result.reject(number, f"not a station id: {station.strip()!r}")
        return None
    if not (year.isdigit() and year[0] != "0" and month.isdigit() and 1 <= int(month) <= 12):
        result.reject(number, f"not a year and month: {line[11:17]!r}")
        return None
    return station, int(year), int(month), element


def _values(number: int, line: str, key: Key, days: elements.DayRows, result: Parsed) -> None:
    station, year, month, element = key
    month_length = calendar.monthrange(year, month)[1]
    for index in range(31):
        start = _HEAD + index * _BLOCK
        text = line[start : start + 5].strip()
        if not text.lstrip("-").isdigit() or text[1:].count("-"):
            result.reject(number, f"day {index + 1}: value is not a whole number: {text!r}")
            return
        value = int(text)
        if index < month_length:
            days.add(number, station=station, element=element,
                     day=date(year, month, index + 1), value=value,
                     quality_flag=line[start + 6])  # fmt: skip
        elif value != MISSING:
            result.reject(number, f"day {index + 1} has a value but {year}-{month:02d} "
                                  f"has {month_length} days")  # fmt: skip
            return
