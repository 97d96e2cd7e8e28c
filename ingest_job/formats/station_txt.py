"""Station files: ``<STATION_ID>.txt``, one day per line.

Each line holds the date (``YYYYMMDD``), the maximum and minimum temperature
(tenths of a degree Celsius) and the precipitation (tenths of a millimetre),
tab-separated and space-padded; ``-9999`` means missing. Blank lines are
ignored; LF and CRLF endings are both accepted.

Well-formed blocks of a file (all of the real data) take a fast path that
checks the whole block with a few regular expressions and rewrites it into
COPY rows with byte operations; any block that fails it is parsed line by
line, which names every bad line.
"""

from __future__ import annotations

import itertools
import re
from array import array
from datetime import date

from ingest_job.formats import dates
from ingest_job.formats.base import (
    MISSING,
    SMALLINT,
    LineParser,
    Parsed,
    copy_row,
    parse_whole,
    shown,
    split_lines,
)

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


def parse(name: str, data: bytes, *, fast: bool = True) -> Parsed:
    """Parse a whole station file named ``<STATION_ID>.txt`` (``fast=False``: line by line only)."""
    return parse_whole(Parser(name, fast=fast), data)


class Parser(LineParser):
    """A station file, block by block."""

    format = FORMAT
    table = "observation"

    def __init__(self, name: str, *, fast: bool = True) -> None:
        station = station_id(name.rsplit("/", 1)[-1])
        if station is None:
            raise ValueError(f"{name} is not a station file name")
        super().__init__(name)
        self.station = station
        self.result.stations = frozenset({station})
        self.fast = fast
        self.dates = _FirstLines()
        self.blocks = 0

    def feed(self, block: bytes, first_line: int) -> bytes:
        self.blocks += 1
        if self.blocks == 2:
            self.dates.spread()  # more than one block: remember dates by day from now on
        body = block.replace(b"\r\n", b"\n")
        if not body.endswith(b"\n"):
            body += b"\n"
        out = self._fast(body, first_line) if self.fast else None
        return out if out is not None else self._slow(body, first_line)

    def finish(self) -> bytes:
        if self.result.ok and self.result.rows == 0:
            self.result.reject(1, "the file has no data lines")
        return b""

    def _fast(self, body: bytes, first_line: int) -> bytes | None:
        if body.startswith(b"\n") or b"\n\n" in body:
            return None  # blank lines: the line-by-line path skips them
        shapes = set(body.translate(_FOLD_DIGITS).split(b"\n"))
        shapes.discard(b"")
        if not all(_FAST_SHAPE.fullmatch(shape) for shape in shapes):
            return None
        if any(last != b"-9999\n" for last in _NEGATIVE_LAST.findall(body)):
            return None  # a negative precipitation other than "missing"
        column = _date_column(body)
        # Dates in order (as in every real file) are checked against the
        # calendar as one string; others through a set of them.
        if not dates.increasing(column):
            days = column.split()
            unique = set(days)
            if len(unique) != len(days) or not dates.common_era().issuperset(unique):
                return None  # a date twice, or one to look at closely
        if not self.dates.add_all(column, first_line):
            return None  # a date of an earlier block
        # Longest padding first, so that "\t  -9999" never leaves "\t \\N".
        for padding in sorted(_missing_paddings(shapes), reverse=True):
            body = body.replace(b"\t" + b" " * padding + b"-9999", b"\t\\N")
        prefix = self.station.encode() + b"\t"
        self.result.rows += len(column) // _DATE_LINE
        return prefix + body[:-1].replace(b"\n", b"\n" + prefix) + b"\n"

    def _slow(self, body: bytes, first_line: int) -> bytes:
        out: list[bytes] = []
        for offset, line in enumerate(split_lines(body)):
            if not line.strip():
                continue
            row = _line(self.station, first_line + offset, line, self.dates, self.result)
            if row is not None:
                out.append(copy_row(row))
        self.result.rows += len(out)
        return b"".join(out)


_DATE_LINE = 9  # "YYYYMMDD\n"


def _date_column(body: bytes) -> bytes:
    """The dates of ``body``'s lines (each starts with 8 digits), one ``YYYYMMDD\\n`` line each."""
    width = body.index(b"\n") + 1
    lines, rest = divmod(len(body), width)
    if rest == 0 and body[width - 1 :: width] == b"\n" * lines and body.count(b"\n") == lines:
        # Lines of one width (every real file): each date's 8 bytes are
        # copied as strides of the body, with no object per line.
        column = bytearray(b"\n" * (_DATE_LINE * lines))
        for offset in range(8):
            column[offset::_DATE_LINE] = body[offset::width]
        return bytes(column)
    return b"\n".join(_DATE.findall(b"\n" + body)) + b"\n"


class _FirstLines:
    """The line each date was first seen on.

    A dict while the file is one block (most files: no cost beyond the
    block); once there is a second block, an array by day number (15 MB,
    whatever the file's size), so that memory never grows with the file.
    """

    def __init__(self) -> None:
        self.lines: dict[bytes, int] = {}
        self.by_day: array[int] | None = None
        # The first block's distinct dates (a column of ``YYYYMMDD\\n``) and
        # its first line, not yet in ``lines``: a file of one block (most)
        # never needs them there.
        self.pending: tuple[bytes, int] | None = None

    def _settle(self) -> None:
        if self.pending is not None:
            column, first_line = self.pending
            self.pending = None
            self.lines.update(zip(column.split(), itertools.count(first_line), strict=False))

    def spread(self) -> None:
        self._settle()
        self.by_day = array("I", bytes(4 * (date.max.toordinal() + 1)))
        for text, line in self.lines.items():
            self.by_day[_ordinal(text)] = line
        self.lines = {}

    def add_all(self, column: bytes, first_line: int) -> bool:
        """Record distinct dates of consecutive lines; False (nothing recorded) if one was seen.

        ``column`` holds the dates, one ``YYYYMMDD\\n`` line each.
        """
        if self.by_day is None:
            if not self.lines and self.pending is None:
                self.pending = (column, first_line)
                return True
            self._settle()
        days = column.split()
        if self.by_day is None:
            if not self.lines.keys().isdisjoint(days):
                return False
            self.lines.update(zip(days, itertools.count(first_line), strict=False))
            return True
        by_day = self.by_day
        ordinals = [_ordinal(text) for text in days]
        if any(by_day[o] for o in ordinals):
            return False
        for line, o in enumerate(ordinals, start=first_line):
            by_day[o] = line
        return True

    def first(self, text: bytes, day: date, line: int) -> int | None:
        """The line ``day`` was first seen on, or None (and ``line`` recorded)."""
        self._settle()
        if self.by_day is None:
            first = self.lines.setdefault(text, line)
            return None if first == line else first
        o = day.toordinal()
        if self.by_day[o]:
            return int(self.by_day[o])
        self.by_day[o] = line
        return None


def _ordinal(text: bytes) -> int:
    return date(int(text[:4]), int(text[4:6]), int(text[6:8])).toordinal()


def _missing_paddings(shapes: set[bytes]) -> set[int]:
    found: set[int] = set()
    for shape in shapes:
        for field in shape.split(b"\t")[1:]:
            if field.endswith(b"-0000"):
                found.add(len(field) - 5)
    return found


def _line(
    station: str, number: int, line: bytes, seen: _FirstLines, result: Parsed
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
    first = seen.first(key, day, number)
    if first is not None:
        result.reject(number, f"date {key.decode()} appears twice (first on line {first})")
        return None
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
