"""The yield file: one year per line, ``YEAR<TAB>YIELD`` (thousands of metric tons)."""

from __future__ import annotations

from ingest_job.formats.base import MISSING, Parsed, copy_row, lines, shown

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


def parse(name: str, data: bytes) -> Parsed:
    """Parse a yield file."""
    result = Parsed(name=name, format=FORMAT, table="crop_yield")
    if not data.strip():
        result.reject(1, "the file is empty")
        return result
    out: list[bytes] = []
    seen: dict[int, int] = {}
    for number, line in enumerate(lines(data), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2:
            result.reject(number, f"expected 2 fields (year, yield), found {len(fields)}")
            continue
        year_raw, value_raw = fields
        if not (len(year_raw) == 4 and year_raw.isdigit() and year_raw[:1] != b"0"):
            result.reject(number, f"not a year: {shown(year_raw)}")
            continue
        year = int(year_raw)
        if year in seen:
            result.reject(number, f"year {year} appears twice (first on line {seen[year]})")
            continue
        seen[year] = number
        if not value_raw.lstrip(b"-").isdigit() or value_raw[1:].count(b"-"):
            result.reject(number, f"yield is not a whole number: {shown(value_raw)}")
            continue
        value = int(value_raw)
        if value == MISSING:
            result.reject(number, f"the yield for {year} is missing (-9999)")
            continue
        if not 0 <= value <= _MAX_YIELD:
            result.reject(number, f"yield {value} is out of range (0 or more)")
            continue
        out.append(copy_row((year, value)))
    if result.ok:
        result.payload = b"".join(out)
        result.rows = len(out)
    return result
