"""Station files: ``<STATION_ID>.txt``, one day per line.

Each line holds the date (``YYYYMMDD``), the maximum and minimum temperature
(tenths of a degree Celsius) and the precipitation (tenths of a millimetre),
tab-separated and space-padded; ``-9999`` means missing. Blank lines are
ignored; LF and CRLF endings are both accepted.

Well-formed files (all of the real data) take a fast path that checks the
whole file with a few regular expressions and rewrites it into COPY rows
with byte operations; any file that fails it is parsed line by line, which
names every bad line.
"""

from __future__ import annotations

import re

from ingest_job.formats import dates
from ingest_job.formats.base import MISSING, SMALLINT, Parsed, copy_row, lines, shown

FORMAT = "station_txt"
STATION_ID = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,31}")

# The fast path checks the shape of each distinct line (digits folded to 0),
# not every line: real files have a few hundred shapes for 10,000 lines.
_FOLD_DIGITS = bytes.maketrans(b"123456789", b"000000000")
_FAST_SHAPE = re.compile(rb"0{8}\t {0,8}-?0{1,4}\t {0,8}-?0{1,4}\t {0,8}-?0{1,6}")
_NEGATIVE_LAST = re.compile(rb"-\d+\n")
_DATE = re.compile(rb"\n(\d{8})")
_FIELDS = ("date", "maximum temperature", "minimum temperature", "precipitation")


def station_id(name: str) -> str | None:
    """The station id a file name carries (``USC00110072.txt``), or None."""
    stem, dot, suffix = name.rpartition(".")
    if not dot or suffix.lower() != "txt" or not STATION_ID.fullmatch(stem):
        return None
    return stem


def parse(name: str, data: bytes) -> Parsed:
    """Parse a station file named ``<STATION_ID>.txt``."""
    station = station_id(name)
    if station is None:
        raise ValueError(f"{name} is not a station file name")
    result = Parsed(name=name, format=FORMAT, table="observation", stations=frozenset({station}))
    if not data.strip():
        result.reject(1, "the file is empty")
        return result
    body = data.replace(b"\r\n", b"\n")
    if not body.endswith(b"\n"):
        body += b"\n"
    if not _fast(station, body, result):
        _slow(station, body, result)
    return result


def _fast(station: str, body: bytes, result: Parsed) -> bool:
    if body.startswith(b"\n") or b"\n\n" in body:
        return False  # blank lines: the line-by-line path skips them
    shapes = set(body.translate(_FOLD_DIGITS).split(b"\n"))
    shapes.discard(b"")
    if not all(_FAST_SHAPE.fullmatch(shape) for shape in shapes):
        return False
    if any(last != b"-9999\n" for last in _NEGATIVE_LAST.findall(body)):
        return False  # a negative precipitation other than "missing"
    days = _DATE.findall(b"\n" + body)
    unique = set(days)
    if len(unique) != len(days) or not dates.common_era().issuperset(unique):
        return False  # a date twice, or one to look at closely
    # Longest padding first, so that "\t  -9999" never leaves "\t \\N".
    for padding in sorted(_missing_paddings(shapes), reverse=True):
        body = body.replace(b"\t" + b" " * padding + b"-9999", b"\t\\N")
    prefix = station.encode() + b"\t"
    result.payload = prefix + body[:-1].replace(b"\n", b"\n" + prefix) + b"\n"
    result.rows = len(days)
    return True


def _missing_paddings(shapes: set[bytes]) -> set[int]:
    found: set[int] = set()
    for shape in shapes:
        for field in shape.split(b"\t")[1:]:
            if field.endswith(b"-0000"):
                found.add(len(field) - 5)
    return found


def _slow(station: str, body: bytes, result: Parsed) -> None:
    out: list[bytes] = []
    seen: dict[bytes, int] = {}
    for number, line in enumerate(lines(body), start=1):
        if not line.strip():
            continue
        row = _line(station, number, line, seen, result)
        if row is not None:
            out.append(copy_row(row))
    if result.ok:
        result.payload = b"".join(out)
        result.rows = len(out)
    elif not out and not result.errors:
        result.reject(1, "the file has no data lines")


def _line(
    station: str, number: int, line: bytes, seen: dict[bytes, int], result: Parsed
) -> tuple[object, ...] | None:
    fields = line.split(b"\t")
    if len(fields) != len(_FIELDS):
        result.reject(
            number,
            f"expected 4 tab-separated fields (date, max, min, precipitation), found {len(fields)}",
        )
        return None
    day = dates.parse(fields[0])
    if day is None:
        result.reject(number, f"not a date (YYYYMMDD): {shown(fields[0])}")
        return None
    key = fields[0].strip()
    if key in seen:
        result.reject(number, f"date {key.decode()} appears twice (first on line {seen[key]})")
        return None
    seen[key] = number
    values: list[int | None] = []
    for label, raw in zip(_FIELDS[1:], fields[1:], strict=True):
        value = _number(raw)
        if value is None:
            result.reject(number, f"{label} is not a whole number: {shown(raw)}")
            return None
        if value == MISSING:
            values.append(None)
            continue
        low, high = (0, 2_147_483_647) if label == "precipitation" else SMALLINT
        if not low <= value <= high:
            result.reject(number, f"{label} {value} is out of range ({low} to {high})")
            return None
        values.append(value)
    return (station, day.isoformat(), *values)


def _number(raw: bytes) -> int | None:
    text = raw.strip()
    if not text or not text.lstrip(b"-").isdigit() or text.count(b"-") > 1 or text[1:].count(b"-"):
        return None
    return int(text)
