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
    return frozenset(calendar_text().split())


@cache
def calendar_text() -> bytes:
    """Every date of :func:`common_era` in order, one ``YYYYMMDD\\n`` line each (1.3 MB)."""
    ordinary = [day for day in _MONTH_DAYS if day != _FEB_29]
    return b"".join(
        b"%d%s\n" % (year, month_day)
        for year in range(1800, 2200)
        for month_day in (_MONTH_DAYS if calendar.isleap(year) else ordinary)
    )


_FIRST_ORDINAL = date(1800, 1, 1).toordinal()
_LINE = 9  # "YYYYMMDD\n"


def increasing(column: bytes, most_runs: int = 256) -> bool:
    """True if ``column`` (``YYYYMMDD\\n`` lines) holds real dates of 1800-2199 in rising order.

    The column is compared with :func:`calendar_text` a run of consecutive
    days at a time, as bytes: no object per date. False as well when the
    column has more than ``most_runs`` runs; the caller then checks it date
    by date.
    """
    calendar_bytes = calendar_text()
    position = after = runs = 0
    while position < len(column):
        runs += 1
        day = parse(column[position : position + 8])
        if runs > most_runs or day is None or not 1800 <= day.year < 2200:
            return False
        start = (day.toordinal() - _FIRST_ORDINAL) * _LINE
        if start < after:
            return False  # not after the date before it
        lines = _same_lines(column, position, calendar_bytes, start)
        if lines == 0:
            return False
        position += lines * _LINE
        after = start + lines * _LINE
    return True


def _same_lines(column: bytes, position: int, calendar_bytes: bytes, start: int) -> int:
    """How many whole lines of ``column`` from ``position`` equal the calendar's from ``start``."""
    limit = min(len(column) - position, len(calendar_bytes) - start) // _LINE

    def agree(lo: int, hi: int) -> bool:  # lines lo..hi-1 of both
        piece = calendar_bytes[start + lo * _LINE : start + hi * _LINE]
        return column.startswith(piece, position + lo * _LINE)

    # Gallop (1, 2, 4, ... lines) while they agree, then halve the gap back:
    # each line is compared a few times at most.
    good, bad = 0, 1
    while bad <= limit and agree(good, bad):
        good, bad = bad, 2 * bad
    bad = min(bad, limit + 1)
    while bad - good > 1:
        middle = (good + bad) // 2
        if agree(good, middle):
            good = middle
        else:
            bad = middle
    return good
