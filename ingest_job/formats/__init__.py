"""File formats: recognise a file by name and content, parse it, or just validate it.

Each format module turns bytes into COPY rows for one table and line errors;
none touches the database. :func:`parser` gives a block-by-block parser for
a file of any size (see ``base.payloads``); :func:`parse` parses a whole
file held in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ingest_job.formats import ghcn_csv, ghcn_dly, ghcn_stations, station_txt, yield_txt
from ingest_job.formats.base import (
    BOM,
    LineError,
    LineParser,
    Parsed,
    UnrecognisedFile,
    parse_whole,
    payloads,
)

__all__ = [
    "OBSERVATION_FORMATS",
    "UPLOAD_FORMATS",
    "LineError",
    "LineParser",
    "Parsed",
    "UnrecognisedFile",
    "Validation",
    "detect",
    "parse",
    "parser",
    "payloads",
    "station_of",
    "validate",
]

Parser = Callable[[str], LineParser]

# What the API's upload endpoint accepts (the ingest job reads them all).
UPLOAD_FORMATS = frozenset({station_txt.FORMAT, yield_txt.FORMAT})
# Formats whose rows go to the observation table.
OBSERVATION_FORMATS = frozenset({station_txt.FORMAT, ghcn_dly.FORMAT, ghcn_csv.FORMAT})


@dataclass(frozen=True)
class Validation:
    """What a file would load: its format, its good rows, its first bad lines."""

    format: str
    rows: int
    errors: list[LineError] = field(default_factory=list)
    lines_rejected: int = 0
    values_rejected_qc: int = 0

    @property
    def ok(self) -> bool:
        return self.lines_rejected == 0


def detect(name: str, head: bytes) -> tuple[str, Parser]:
    """The format of a file from its base name and first bytes.

    Raises :class:`UnrecognisedFile` with a message saying what was expected.
    """
    base = name.rsplit("/", 1)[-1]
    suffix = base.rpartition(".")[2].lower() if "." in base else ""
    if base.lower() == ghcn_stations.FILE_NAME:
        return ghcn_stations.FORMAT, ghcn_stations.Parser
    if suffix == "dly":
        return ghcn_dly.FORMAT, ghcn_dly.Parser
    if suffix == "csv":
        return ghcn_csv.FORMAT, ghcn_csv.Parser
    if suffix == "txt":
        if yield_txt.looks_like(head):
            return yield_txt.FORMAT, yield_txt.Parser
        if station_txt.station_id(base) is not None:
            return station_txt.FORMAT, station_txt.Parser
        raise UnrecognisedFile(
            f"{base}: the name is not a station id (expected <STATION_ID>.txt, e.g. "
            "USC00110072.txt, upper-case letters, digits, '_' or '-') and the content is "
            "not a yield file (lines of year and yield)"
        )
    raise UnrecognisedFile(
        f"{base}: unknown kind of file (expected <STATION_ID>.txt, a yield .txt, "
        f"GHCN-Daily <ID>.dly or <ID>.csv, or {ghcn_stations.FILE_NAME})"
    )


def parser(name: str, head: bytes) -> LineParser:
    """A parser for the file ``name`` (a path or a URI) whose first bytes are ``head``.

    Raises :class:`UnrecognisedFile` when the name and content match no format.
    """
    _, factory = detect(name, head.removeprefix(BOM)[:4096])
    return factory(name.rsplit("/", 1)[-1])


def parse(name: str, data: bytes) -> Parsed:
    """Recognise and parse a whole file held in memory; ``payload`` has its rows if it is clean."""
    return parse_whole(parser(name, data), data)


def station_of(name: str) -> str | None:
    """The station a file is named for (``USC00110072.txt``, ``.dly``, ``.csv``), or None.

    Shards split the files by this name, so that each station stays in one shard.
    """
    base = name.rsplit("/", 1)[-1]
    stem, dot, suffix = base.rpartition(".")
    if not dot or suffix.lower() not in ("txt", "dly", "csv"):
        return None
    if base.lower() == ghcn_stations.FILE_NAME:
        return None
    return stem if station_txt.STATION_ID.fullmatch(stem) else None


def validate(name: str, data: bytes) -> Validation:
    """Check a file without loading it (the API's upload endpoint calls this).

    Raises :class:`UnrecognisedFile` when the name and content match no format.
    """
    parsed = parse(name, data)
    return Validation(
        format=parsed.format,
        rows=parsed.rows,
        errors=list(parsed.errors),
        lines_rejected=parsed.lines_rejected,
        values_rejected_qc=parsed.values_rejected_qc,
    )
