"""The GHCN-Daily elements the warehouse keeps, and how one value is judged.

Shared by the ``.dly`` and by-station CSV parsers: both give one value per
station, day and element, with NOAA's flags.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from ingest_job.formats.base import MISSING, SMALLINT, Parsed, copy_row

# Element -> position in an observation row (tmax, tmin, prcp).
KEPT = {"TMAX": 0, "TMIN": 1, "PRCP": 2}

Days = dict[tuple[str, date], list[int | None]]


def add(
    days: Days,
    result: Parsed,
    line: int,
    *,
    station: str,
    day: date,
    element: str,
    value: int,
    quality_flag: str,
) -> None:
    """Record one value: skip missing ones, count quality-flagged ones, check the range."""
    if value == MISSING:
        return
    if quality_flag.strip():
        # NOAA flagged the value as failing a quality check: not loaded, counted.
        result.values_rejected_qc += 1
        return
    low, high = (0, 2_147_483_647) if element == "PRCP" else SMALLINT
    if not low <= value <= high:
        result.reject(line, f"{element} {value} on {day.isoformat()} is out of range")
        return
    row = days.setdefault((station, day), [None, None, None])
    row[KEPT[element]] = value


def finish(days: Days, result: Parsed) -> None:
    """Turn the collected days into COPY rows, in key order, if the file is clean."""
    if not result.ok:
        return
    result.payload = b"".join(_rows(days))
    result.rows = len(days)
    result.stations = frozenset(station for station, _ in days)


def _rows(days: Days) -> Iterator[bytes]:
    for station, day in sorted(days):
        yield copy_row((station, day.isoformat(), *days[station, day]))
