"""The GHCN-Daily elements the warehouse keeps, and how one value is judged.

Shared by the ``.dly`` and by-station CSV parsers: both give one value per
station, day and element, with NOAA's flags.
"""

from __future__ import annotations

from datetime import date

from ingest_job.formats.base import MISSING, SMALLINT, Parsed, copy_row

# Element -> position in an observation row (tmax, tmin, prcp).
KEPT = {"TMAX": 0, "TMIN": 1, "PRCP": 2}

# (station, day) -> [tmax, tmin, prcp, bit mask of the elements seen that day]
Days = dict[tuple[str, date], list[int | None]]
_SEEN = 3


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
    """Record one value: refused twice, skipped if missing, counted if flagged, range-checked."""
    row = days.get((station, day))
    if row is None:
        row = days[station, day] = [None, None, None, 0]
    bit = 1 << KEPT[element]
    seen = row[_SEEN] or 0
    if seen & bit:
        result.reject(line, f"{element} for {day.isoformat()} appears twice")
        return
    row[_SEEN] = seen | bit
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
    row[KEPT[element]] = value


def finish(days: Days, result: Parsed) -> None:
    """Turn the days with at least one value into COPY rows, in key order, if the file is clean."""
    if not result.ok:
        return
    kept = sorted(key for key, row in days.items() if row[:_SEEN] != [None, None, None])
    result.payload = b"".join(
        copy_row((station, day.isoformat(), *days[station, day][:_SEEN])) for station, day in kept
    )
    result.rows = len(kept)
    result.stations = frozenset(station for station, _ in kept)
