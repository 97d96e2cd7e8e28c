"""The GHCN station inventory ``ghcnd-stations.txt``: names and coordinates.

Fixed width: ID (1-11), latitude (13-20), longitude (22-30), elevation in
metres (32-37, ``-999.9`` unknown), state (39-40), name (42-71).
"""

from __future__ import annotations

import math

from ingest_job.formats.base import (
    Parsed,
    RowPerLine,
    shown,
)
from ingest_job.formats.station_txt import STATION_ID

FORMAT = "ghcn_stations"
FILE_NAME = "ghcnd-stations.txt"
_UNKNOWN_ELEVATION = -999.9
_MIN_LENGTH = 41


class Parser(RowPerLine[str]):
    """The inventory, block by block (it remembers the station ids it has seen)."""

    format = FORMAT
    table = "station"

    def row(self, number: int, raw: bytes) -> tuple[object, ...] | None:
        return _line(number, raw, self.seen, self.result)

    def finish(self) -> bytes:
        self.result.stations = frozenset(self.seen)
        return b""


def _line(
    number: int, raw: bytes, seen: dict[str, int], result: Parsed
) -> tuple[object, ...] | None:
    line = raw.decode("utf-8", "replace")
    if len(line.rstrip()) < _MIN_LENGTH:
        result.reject(number, f"line is too short for the inventory layout: {shown(raw)}")
        return None
    station = line[:11].strip()
    if not STATION_ID.fullmatch(station):
        result.reject(number, f"not a station id: {shown(raw[:11])}")
        return None
    if station in seen:
        result.reject(number, f"station {station} appears twice (first on line {seen[station]})")
        return None
    seen[station] = number
    numbers: list[float] = []
    for label, text, limit in (
        ("latitude", line[12:20], 90.0),
        ("longitude", line[21:30], 180.0),
        ("elevation", line[31:37], 10_000.0),
    ):
        try:
            value = float(text)
        except ValueError:
            result.reject(number, f"{label} is not a number: {text.strip()!r}")
            return None
        if not math.isfinite(value) or (abs(value) > limit and value != _UNKNOWN_ELEVATION):
            result.reject(number, f"{label} {value} is out of range")
            return None
        numbers.append(value)
    latitude, longitude, elevation = numbers
    state = line[38:40].strip() or None
    name = line[41:71].strip() or None
    return (station, name, state, latitude, longitude,
            None if elevation == _UNKNOWN_ELEVATION else elevation)  # fmt: skip
