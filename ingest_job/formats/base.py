"""What every format parser gives: COPY-ready rows for one table, and line errors.

Parsers turn bytes into rows; they never touch the database. Their output is
PostgreSQL COPY text (tab-separated, ``\\N`` for NULL, one row per line) in
the column order of :data:`COLUMNS` for the target table, so the loader can
stream it without knowing where it came from.

Every parser is a :class:`LineParser`: it is fed a file in blocks of whole
lines (:func:`blocks` cuts any stream of bytes into them) and returns the
COPY rows of each block at once, so that a file of any size is parsed in
memory bounded by the block size. What a parser must remember across blocks
(the dates already seen, for instance) is bounded by the calendar, not by
the file. Once a file has a bad line, no more rows are given (the file will
be rejected whole), but the rest is still read to count the bad lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

from warehouse.errors import ExitCode, WarehouseError

Table = Literal["observation", "crop_yield", "station"]
K = TypeVar("K")

# The column order of each table's COPY rows.
COLUMNS: dict[Table, tuple[str, ...]] = {
    "observation": ("station_id", "obs_date", "tmax_tenths_c", "tmin_tenths_c", "prcp_tenths_mm"),
    "crop_yield": ("year", "corn_yield_kt"),
    "station": ("station_id", "name", "state", "latitude", "longitude", "elevation_m"),
}

# A report names the first few bad lines of a file, then counts the rest.
MAX_LINE_ERRORS = 10

# A file is read and parsed this many bytes at a time (cut at a line end).
BLOCK_BYTES = 1024 * 1024
# A "line" longer than this is cut (it is malformed in every format anyway),
# so that a file without line ends cannot grow the job's memory.
MAX_LINE_BYTES = 1024 * 1024
# The UTF-8 byte order mark some editors put first in a text file.
BOM = b"\xef\xbb\xbf"

MISSING = -9999  # every NOAA format's "no value"
SMALLINT = (-32768, 32767)
INTEGER_MAX = 2_147_483_647


class UnrecognisedFile(WarehouseError):
    """A file whose name and content match no known format."""

    exit_code = ExitCode.FILES_REJECTED
    http_status = 415
    title = "Unrecognised file"


@dataclass(frozen=True)
class LineError:
    """One line that cannot be read: ``name:line: reason``."""

    name: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.name}:{self.line}: {self.reason}"


@dataclass
class Parsed:
    """A whole file, parsed: COPY rows for ``table`` unless ``errors``."""

    name: str
    format: str
    table: Table
    payload: bytes = b""
    rows: int = 0
    stations: frozenset[str] = frozenset()
    values_rejected_qc: int = 0
    errors: list[LineError] = field(default_factory=list)
    lines_rejected: int = 0
    # True when a day's values were given in two rows (a file whose lines of one
    # day are far apart): the loader combines them before merging.
    partial: bool = False

    @property
    def ok(self) -> bool:
        return self.lines_rejected == 0

    def reject(self, line: int, reason: str) -> None:
        """Record a bad line (the first few in full, then only the count)."""
        self.lines_rejected += 1
        if len(self.errors) < MAX_LINE_ERRORS:
            self.errors.append(LineError(self.name, line, reason))

    def summary(self) -> str:
        """The bad lines as the run report shows them."""
        lines = [str(error) for error in self.errors]
        more = self.lines_rejected - len(self.errors)
        if more > 0:
            lines.append(f"{self.name}: ... and {more} more bad lines")
        return "\n".join(lines)


class LineParser:
    """A file's parser, fed block by block (see :func:`payloads`); ``result`` says how it went."""

    format = ""
    table: Table = "observation"

    def __init__(self, name: str) -> None:
        self.result = Parsed(name=name, format=self.format, table=self.table)

    def feed(self, block: bytes, first_line: int) -> bytes:
        """COPY rows of a block of whole lines, the first numbered ``first_line``."""
        out: list[bytes] = []
        for number, raw in enumerate(split_lines(block), start=first_line):
            if raw.strip():
                self.line(number, raw, out)
        return b"".join(out)

    def line(self, number: int, raw: bytes, out: list[bytes]) -> None:
        """Read one non-blank line; append to ``out`` the COPY rows it completes."""
        raise NotImplementedError

    def finish(self) -> bytes:
        """COPY rows held back until the end (the file was not empty)."""
        return b""


class RowPerLine(LineParser, Generic[K]):
    """A format whose every good line is one row of its table, each with a key of its own."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        # The line each key was first seen on: a second one is refused, naming it.
        self.seen: dict[K, int] = {}

    def line(self, number: int, raw: bytes, out: list[bytes]) -> None:
        row = self.row(number, raw)
        if row is not None:
            out.append(copy_row(row))
            self.result.rows += 1

    def row(self, number: int, raw: bytes) -> tuple[object, ...] | None:
        """The row of one non-blank line, or None when the line is rejected."""
        raise NotImplementedError


def parse_whole(parser: LineParser, data: bytes) -> Parsed:
    """Feed a whole file held in memory to ``parser``; ``payload`` has its rows if it is clean."""
    payload = b"".join(payloads(parser, [data]))
    parser.result.payload = payload if parser.result.ok else b""
    return parser.result


def blocks(chunks: Iterable[bytes], size: int = BLOCK_BYTES) -> Iterator[tuple[int, bytes]]:
    """Whole lines from a stream of byte chunks: (number of the first line, block).

    A block is cut at the last line end of what has been read; the last
    block may lack a line end. Lines longer than :data:`MAX_LINE_BYTES` are
    cut there. A UTF-8 byte order mark opening the file is dropped (Excel and
    Notepad write one); anywhere else it stays, and the line is judged with it.
    """
    carry = b""
    number = 1
    chunks = without_bom(chunks)
    for chunk in chunks:
        if not chunk:
            continue
        data = carry + chunk if carry else chunk
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            carry = data
            if len(carry) <= MAX_LINE_BYTES:
                continue
            cut, data = len(data) + 1, data + b"\n"
        block, carry = data[:cut], data[cut:]
        yield number, block
        number += block.count(b"\n")
    if carry:
        yield number, carry


def without_bom(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The chunks without a UTF-8 byte order mark opening the first of them."""
    stream = iter(chunks)
    head = b""
    for chunk in stream:  # the first chunks may be shorter than the mark
        head += chunk
        if len(head) >= len(BOM) or not BOM.startswith(head):
            break
    yield head.removeprefix(BOM)
    yield from stream


def payloads(parser: LineParser, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Feed a file's chunks to ``parser``; yield COPY rows while the file is clean.

    When this ends, ``parser.result`` holds the counts and the bad lines.
    """
    empty = True
    for number, block in blocks(chunks):
        if empty and block.strip():
            empty = False
        out = parser.feed(block, number)
        if out and parser.result.ok:
            yield out
    if empty:
        parser.result.reject(1, "the file is empty")
        return
    out = parser.finish()
    if out and parser.result.ok:
        yield out


def split_lines(block: bytes) -> list[bytes]:
    """The lines of a block (LF or CRLF), without their endings."""
    parts = block.split(b"\n")
    if parts and parts[-1] == b"":
        parts.pop()
    return [part[:-1] if part.endswith(b"\r") else part for part in parts]


def copy_field(value: object) -> str:
    """One value in COPY text format (``\\N`` for None; text escaped)."""
    if value is None:
        return "\\N"
    text = str(value)
    if isinstance(value, str):
        text = (
            text.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return text


def copy_row(values: tuple[object, ...]) -> bytes:
    """A tuple as one COPY text line."""
    return ("\t".join(copy_field(v) for v in values) + "\n").encode()


def lines(data: bytes) -> list[bytes]:
    """The lines of a file, with LF or CRLF endings, without the endings."""
    text = data.replace(b"\r\n", b"\n")
    parts = text.split(b"\n")
    if parts and parts[-1] == b"":
        parts.pop()
    return parts


def shown(raw: bytes, limit: int = 40) -> str:
    """A field or line as a message quotes it: decoded, trimmed, shortened."""
    text = raw.decode("utf-8", "replace").strip()
    return repr(text if len(text) <= limit else text[:limit] + "...")
