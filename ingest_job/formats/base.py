"""What every format parser returns: COPY-ready rows for one table, and line errors.

Parsers turn bytes into rows; they never touch the database. Their output is
PostgreSQL COPY text (tab-separated, ``\\N`` for NULL, one row per line) in
the column order of :data:`COLUMNS` for the target table, so the loader can
stream it without knowing where it came from.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from warehouse.errors import ExitCode, WarehouseError

Table = Literal["observation", "crop_yield", "station"]

# The column order of each table's COPY rows.
COLUMNS: dict[Table, tuple[str, ...]] = {
    "observation": ("station_id", "obs_date", "tmax_tenths_c", "tmin_tenths_c", "prcp_tenths_mm"),
    "crop_yield": ("year", "corn_yield_kt"),
    "station": ("station_id", "name", "state", "latitude", "longitude", "elevation_m"),
}

# A report names the first few bad lines of a file, then counts the rest.
MAX_LINE_ERRORS = 10

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


def each_line(data: bytes) -> Iterator[bytes]:
    """The lines of a file one at a time (LF or CRLF), without the endings."""
    for line in io.BytesIO(data):
        yield line.rstrip(b"\r\n")


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
