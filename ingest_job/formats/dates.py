"""Calendar dates written as ``YYYYMMDD``, checked one by one or in bulk."""

from __future__ import annotations

import calendar
from datetime import date
from functools import cache

_FEB_29 = b"0229"
_MONTH_DAYS = tuple(
    f"{month:02d}{day:02d}".encode()
    for month in range(1, 13)
    for day in range(1, calendar.monthrange(2000, month)[1] + 1)
)


def parse(raw: bytes) -> date | None:
    """The date ``raw`` names, or None if it is not a real ``YYYYMMDD`` date."""
    raw = raw.strip()
    if len(raw) != 8 or not raw.isdigit():
        return None
    try:
        return date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
    except ValueError:
        return None


@cache
def common_era() -> frozenset[bytes]:
    """Every real ``YYYYMMDD`` from 1800 to 2199 (146,097 dates, built once).

    A file whose dates are all in this set needs no per-line date check.
    """
    ordinary = [day for day in _MONTH_DAYS if day != _FEB_29]
    return frozenset(
        str(year).encode() + month_day
        for year in range(1800, 2200)
        for month_day in (_MONTH_DAYS if calendar.isleap(year) else ordinary)
    )
