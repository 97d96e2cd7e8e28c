"""GHCN-Daily by-station CSV, as in NOAA's open-data bucket (``csv/by_station/<ID>.csv``).

Columns ``ID,DATE,ELEMENT,DATA_VALUE,M_FLAG,Q_FLAG,S_FLAG,OBS_TIME`` (the
header line is optional), one row per station, day and element. Same rules
as ``.dly``: TMAX, TMIN and PRCP kept, ``-9999`` missing, quality-flagged
values counted and not loaded.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from ingest_job.formats import dates, elements
from ingest_job.formats.base import Parsed, each_line, shown
from ingest_job.formats.station_txt import STATION_ID

FORMAT = "ghcn_csv"
HEADER = ("ID", "DATE", "ELEMENT", "DATA_VALUE", "M_FLAG", "Q_FLAG", "S_FLAG", "OBS_TIME")


def parse(name: str, data: bytes) -> Parsed:
    """Parse a by-station CSV file."""
    result = Parsed(name=name, format=FORMAT, table="observation")
    if not data.strip():
        result.reject(1, "the file is empty")
        return result
    days: elements.Days = {}
    reader = csv.reader(_text_lines(data, result))
    for fields in reader:
        number = reader.line_num
        if not fields or (number == 1 and tuple(f.strip().upper() for f in fields) == HEADER):
            continue
        _row(number, fields, days, result)
    elements.finish(days, result)
    return result


def _text_lines(data: bytes, result: Parsed) -> Iterator[str]:
    """Decoded lines one at a time; an undecodable line is rejected and read as empty."""
    for number, raw in enumerate(each_line(data.removeprefix(b"\xef\xbb\xbf")), start=1):
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            result.reject(number, "not UTF-8 text")
            yield ""


def _row(number: int, fields: list[str], days: elements.Days, result: Parsed) -> None:
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
    if not value_text.lstrip("-").isdigit() or value_text[1:].count("-"):
        result.reject(number, f"DATA_VALUE is not a whole number: {shown(value_text.encode())}")
        return
    elements.add(days, result, number, station=station, day=day, element=element,
                 value=int(value_text), quality_flag=quality_flag)  # fmt: skip
