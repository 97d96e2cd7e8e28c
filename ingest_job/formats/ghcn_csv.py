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
from ingest_job.formats.base import Parsed, shown, split_lines
from ingest_job.formats.station_txt import STATION_ID

FORMAT = "ghcn_csv"
HEADER = ("ID", "DATE", "ELEMENT", "DATA_VALUE", "M_FLAG", "Q_FLAG", "S_FLAG", "OBS_TIME")


class Parser(elements.DailyParser):
    """A by-station CSV file, block by block; rows go out at a change of station or day."""

    format = FORMAT

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.group: tuple[str, str] | None = None

    def feed(self, block: bytes, first_line: int) -> bytes:
        if first_line == 1:
            block = block.removeprefix(b"\xef\xbb\xbf")
        out: list[bytes] = []
        reader = csv.reader(_text_lines(block, first_line, self.result))
        for fields in reader:
            number = first_line + reader.line_num - 1
            if not fields or (number == 1 and tuple(f.strip().upper() for f in fields) == HEADER):
                continue
            group = (fields[0], fields[1]) if len(fields) > 1 else None
            if group != self.group:
                out.append(self.days.flush_if_full())
                self.group = group
            _row(number, fields, self.days, self.result)
        return b"".join(out)


def _text_lines(block: bytes, first_line: int, result: Parsed) -> Iterator[str]:
    """Decoded lines one at a time; an undecodable line is rejected and read as empty."""
    for number, raw in enumerate(split_lines(block), start=first_line):
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            result.reject(number, "not UTF-8 text")
            yield ""


def _row(number: int, fields: list[str], days: elements.DayRows, result: Parsed) -> None:
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
    days.add(
        number,
        station=station,
        day=day,
        element=element,
        value=int(value_text),
        quality_flag=quality_flag,
    )
