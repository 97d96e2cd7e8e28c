"""GHCN-Daily by-station CSV, as in NOAA's open-data bucket (``csv/by_station/<ID>.csv``).

Columns ``ID,DATE,ELEMENT,DATA_VALUE,M_FLAG,Q_FLAG,S_FLAG,OBS_TIME`` (the
header line is optional), one row per station, day and element. Same rules
as ``.dly``: TMAX, TMIN and PRCP kept, ``-9999`` missing, quality-flagged
values counted and not loaded.
"""

from __future__ import annotations

import csv

from ingest_job.formats import dates, elements
from ingest_job.formats.base import Parsed, shown
from ingest_job.formats.station_txt import STATION_ID

FORMAT = "ghcn_csv"
HEADER = ("ID", "DATE", "ELEMENT", "DATA_VALUE", "M_FLAG", "Q_FLAG", "S_FLAG", "OBS_TIME")


def parse(name: str, data: bytes) -> Parsed:
    """Parse a by-station CSV file."""
    result = Parsed(name=name, format=FORMAT, table="observation")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        result.reject(data.count(b"\n", 0, exc.start) + 1, "not UTF-8 text")
        return result
    if not text.strip():
        result.reject(1, "the file is empty")
        return result
    days: elements.Days = {}
    seen: dict[tuple[str, str, str], int] = {}
    reader = csv.reader(text.splitlines())
    for number, fields in enumerate(reader, start=1):
        if not fields or (number == 1 and tuple(f.strip().upper() for f in fields) == HEADER):
            continue
        _row(number, fields, days, seen, result)
    elements.finish(days, result)
    return result


def _row(
    number: int,
    fields: list[str],
    days: elements.Days,
    seen: dict[tuple[str, str, str], int],
    result: Parsed,
) -> None:
    if len(fields) != len(HEADER):
        result.reject(number, f"expected {len(HEADER)} comma-separated fields, found {len(fields)}")
        return
    station, day_text, element, value_text, _, quality_flag = (f.strip() for f in fields[:6])
    if not STATION_ID.fullmatch(station):
        result.reject(number, f"not a station id: {shown(station.encode())}")
        return
    day = dates.parse(day_text.encode())
    if day is None:
        result.reject(number, f"not a date (YYYYMMDD): {shown(day_text.encode())}")
        return
    if element not in elements.KEPT:
        return
    key = (station, day_text, element)
    if key in seen:
        result.reject(number, f"{element} for {day_text} appears twice (first on line {seen[key]})")
        return
    seen[key] = number
    if not value_text.lstrip("-").isdigit() or value_text[1:].count("-"):
        result.reject(number, f"DATA_VALUE is not a whole number: {shown(value_text.encode())}")
        return
    elements.add(days, result, number, station=station, day=day, element=element,
                 value=int(value_text), quality_flag=quality_flag)  # fmt: skip
