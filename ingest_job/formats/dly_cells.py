"""``.dly`` lines cut into COPY fields at C speed, for the database to pivot.

A ``.dly`` line is fixed-width (formats/ghcn_dly.py): the station, year,
month and element, then 31 day blocks of value and M, Q, S flags. Cutting
the blocks apart in SQL (``substr`` or a regular expression per line) cost
as much as the Python parser's whole work (docs/ingest-scale.md); here one
``struct`` format cuts a whole block of lines into the fields that matter
(the head, then each day's value and quality flag), and COPY's text format
reads them as tab-separated columns (``pivot_dly.RAW_DLY``). No Python runs
per day, only per line.

Only files whose every line is exactly 269 characters (NOAA writes nothing
else) are cut; any other line (shorter, longer, blank, CRLF) stops the
cutting, and the file goes to its Python parser, the specification of the
format, which pads short lines and names bad ones.
"""

from __future__ import annotations

import struct

# The station (11), year (4), month (2), element (4), 31 blocks of 8.
LINE = 269
# One line and its newline: head fields, then per day the value and the Q
# flag (the M and S flags and the newline skipped: "x").
_RECORD = struct.Struct("11s4s2s4s" + "5sx1sx" * 31 + "x")
assert _RECORD.size == LINE + 1


class Cutter:
    """Cuts a ``.dly`` file's bytes, chunk by chunk, into COPY text rows."""

    def __init__(self) -> None:
        self._rest = b""
        self.fixed = True  # every line so far is exactly LINE characters

    def rows(self, chunk: bytes) -> bytes:
        """The COPY rows of the whole lines read so far (b"" once a line is not fixed-width)."""
        if not self.fixed:
            return b""
        data = self._rest + chunk if self._rest else chunk
        whole = len(data) - len(data) % _RECORD.size
        body, self._rest = data[:whole], data[whole:]
        count = whole // _RECORD.size
        # Each record's last byte is its newline exactly when every line is LINE long.
        if body[LINE :: _RECORD.size] != b"\n" * count:
            self.fixed = False
            return b""
        if not count:
            return b""
        return b"\n".join(map(b"\t".join, _RECORD.iter_unpack(body))) + b"\n"

    def end(self) -> bytes:
        """The last line's row, if the file does not end with a newline."""
        rest, self._rest = self._rest, b""
        if not rest or not self.fixed:
            return b""
        if len(rest) != LINE:
            self.fixed = False
            return b""
        return self.rows(rest + b"\n")
