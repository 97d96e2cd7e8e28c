"""GHCN-Daily CSV handed to PostgreSQL as it is: raw lines for COPY, and what to vouch for.

By-station (and ``by_year``) CSV files are parsed by the database (see
:mod:`ingest_job.pivot`): this module only passes the file's bytes on for
COPY, drops a leading byte order mark and the header line, and checks each
block at C speed for bytes that NOAA's files never hold and that the
database's reading could take differently from the Python parser (the
specification of the format): quotes, escapes, spaces, signs, punctuation,
lower case, control and non-ASCII bytes. A file with any of them is not
vouched for, and the loader gives it to its Python parser instead, which
judges it line by line and names its bad lines.

``.dly`` files stay with their Python parser: cutting 31 fixed-width day
blocks per line apart in SQL (``substr`` or a regular expression) measured
no faster than parsing them in Python (docs/ingest-scale.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ingest_job.formats import ghcn_csv
from ingest_job.formats.base import LineParser, without_bom

_UPPER = bytes(range(ord("A"), ord("Z") + 1))
# What a plain file holds: NOAA writes nothing else. In a CSV, no quoting or
# escapes (Python's csv module and COPY differ on them), no spaces (the
# parser strips fields, COPY keeps them), nothing PostgreSQL's integer or
# date input takes and Python's does not ("+5", "1_000", "0x1f", "infinity"),
# so that a field is only upper-case letters, digits and minus signs.
_CSV_PLAIN = _UPPER + b"0123456789-,\n\r"
# Every other byte (controls, non-ASCII, punctuation, lower case): see RawFile.blocks.
_CSV_ODD = bytes(b for b in range(256) if b not in _CSV_PLAIN)


@dataclass
class RawFile:
    """One GHCN-Daily CSV on its way to COPY, and whether its bytes are plain."""

    name: str
    format: str
    plain: bool = True
    empty: bool = True

    def blocks(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """The file's bytes for COPY (mark and header line dropped), checked as they pass."""
        for chunk in _without_header(without_bom(chunks)):
            if self.plain and len(chunk.translate(None, _CSV_ODD)) != len(chunk):
                self.plain = False
            if self.empty and chunk.strip():
                self.empty = False
            yield chunk


def raw_file(parser: LineParser) -> RawFile | None:
    """A RawFile for the file ``parser`` was made for, if the database can parse its format."""
    if parser.format == ghcn_csv.FORMAT:
        return RawFile(parser.result.name, parser.format)
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
