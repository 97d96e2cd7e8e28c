"""GHCN-Daily CSV and ``.dly`` handed to PostgreSQL: raw lines for COPY, and what to vouch for.

By-station (and ``by_year``) CSV and ``.dly`` files are parsed by the
database (see :mod:`ingest_job.pivot`): this module only passes the file's
bytes on for COPY (a CSV as it is, with a leading byte order mark and the
header line dropped; a ``.dly`` cut into fields by
:mod:`ingest_job.formats.dly_cells`), and checks each block at C speed for
bytes that NOAA's files never hold and that the database's reading could
take differently from the Python parsers (the specification of the formats):
quotes, escapes, spaces in a CSV, signs, punctuation, lower case, control
and non-ASCII bytes. A file with any of them (or a ``.dly`` line that is not
269 characters) is not vouched for, and the loader gives it to its Python
parser instead, which judges it line by line and names its bad lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ingest_job.formats import ghcn_csv, ghcn_dly
from ingest_job.formats.base import LineParser, without_bom
from ingest_job.formats.dly_cells import Cutter

_UPPER = bytes(range(ord("A"), ord("Z") + 1))
# What a plain file holds: NOAA writes nothing else. In a CSV, no quoting or
# escapes (Python's csv module and COPY differ on them), no spaces (the
# parser strips fields, COPY keeps them), nothing PostgreSQL's integer or
# date input takes and Python's does not ("+5", "1_000", "0x1f", "infinity"),
# so that a field is only upper-case letters, digits and minus signs.
_CSV_PLAIN = _UPPER + b"0123456789-,\n\r"
# In a .dly, the fixed-width fields, flags and padding (no tab or backslash,
# which COPY's text format would read as its own).
_DLY_PLAIN = _UPPER + b"0123456789- \n"
# Every other byte (controls, non-ASCII, punctuation, lower case): see RawFile.blocks.
_ODD = {
    ghcn_csv.FORMAT: bytes(b for b in range(256) if b not in _CSV_PLAIN),
    ghcn_dly.FORMAT: bytes(b for b in range(256) if b not in _DLY_PLAIN),
}


@dataclass
class RawFile:
    """One GHCN-Daily file on its way to COPY: which format, and whether its bytes are plain."""

    name: str
    format: str
    size: int = 0  # bytes, as listed (0: not known)
    plain: bool = True
    empty: bool = True

    def blocks(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """The file's COPY data (mark and header line dropped), checked as it passes.

        A ``.dly`` stops at the first block that is not plain: nothing after
        it is read, since the file goes to its parser anyway.
        """
        odd = _ODD[self.format]
        cutter = Cutter() if self.format == ghcn_dly.FORMAT else None
        stream = without_bom(chunks)
        if cutter is None:
            stream = _without_header(stream)
        for chunk in stream:
            if self.plain and len(chunk.translate(None, odd)) != len(chunk):
                self.plain = False
            if self.empty and chunk.strip():
                self.empty = False
            if cutter is None:
                yield chunk
                continue
            rows = cutter.rows(chunk) if self.plain else b""
            if not (self.plain and cutter.fixed):
                self.plain = False
                return
            if rows:
                yield rows
        if cutter is not None and (rows := cutter.end()):
            yield rows
        if cutter is not None and not cutter.fixed:
            self.plain = False


def raw_file(parser: LineParser, size: int) -> RawFile | None:
    """A RawFile for the file (``size`` bytes) ``parser`` was made for, if the database reads it."""
    if parser.format in _ODD:
        return RawFile(parser.result.name, parser.format, size)
    return None


def _without_header(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The chunks without NOAA's header line, if the file opens with it."""
    head = b""
    for chunk in chunks:
        head += chunk
        if b"\n" in head:
            break
    first, newline, rest = head.partition(b"\n")
    fields = first.removesuffix(b"\r").split(b",")
    if tuple(f.strip().upper() for f in fields) == tuple(n.encode() for n in ghcn_csv.HEADER):
        head = rest if newline else b""
    yield head
    yield from chunks
