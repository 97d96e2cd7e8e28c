"""The yield file: one year per line, ``YEAR<TAB>YIELD`` (thousands of metric tons)."""

from __future__ import annotations

from ingest_job.formats.base import (
    MISSING,
    RowPerLine,
    lines,
    shown,
)

FORMAT = "yield_txt"
_MAX_YIELD = 2**63 - 1


def looks_like(head: bytes) -> bool:
    """True when the first non-blank line is two whole numbers, the first a year."""
    for line in lines(head):
        fields = line.split()
        if not fields:
            continue
        return len(fields) == 2 and len(fields[0]) == 4 and all(f.isdigit() for f in fields)
    return False


class Parser(RowPerLine[int]):
    """A yield file, block by block."""

    format = FORMAT
    table = "crop_yield"

    def row(self, number: int, raw: bytes) -> tuple[object, ...] | None:
        fields = raw.split()
        problem = self._problem(number, fields)
        if problem is not None:
            self.result.reject(number, problem)
            return None
        return int(fields[0]), int(fields[1])

    def _problem(self, number: int, fields: list[bytes]) -> str | None:
        """Why a line of (year, yield) is not one, or None."""
        if len(fields) != 2:
            return f"expected 2 fields (year, yield), found {len(fields)}"
        year_raw, value_raw = fields
        if not (len(year_raw) == 4 and year_raw.isdigit() and year_raw[:1] != b"0"):
            return f"not a year: {shown(year_raw)}"
        year = int(year_raw)
        if year in self.seen:
            return f"year {year} appears twice (first on line {self.seen[year]})"
        self.seen[year] = number
        if not value_raw.lstrip(b"-").isdigit() or value_raw[1:].count(b"-"):
            return f"yield is not a whole number: {shown(value_raw)}"
        return _value_problem(year, int(value_raw))


def _value_problem(year: int, value: int) -> str | None:
    if value == MISSING:
        return f"the yield for {year} is missing (-9999)"
    if not 0 <= value <= _MAX_YIELD:
        return f"yield {value} is out of range (0 or more)"
    return None
