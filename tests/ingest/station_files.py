"""Small station files for the ingest tests, written from generated lines."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path


def station_lines(start: date, days: int, *, seed: int = 0) -> list[str]:
    """``days`` well-formed station-file lines from ``start``, values varying with ``seed``."""
    out = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        tmax = (offset * 7 + seed) % 400 - 100
        tmin = tmax - 50 - (offset + seed) % 30
        prcp = (offset * 13 + seed) % 90 if offset % 3 else 0
        out.append(f"{day:%Y%m%d}\t{tmax:5d}\t{tmin:5d}\t{prcp:5d}")
    return out


def write(folder: Path, name: str, lines: Iterable[str], *, newline: str = "\n") -> Path:
    """Write a text file from lines and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes("".join(line + newline for line in lines).encode())
    return path
