""".dly parsed by PostgreSQL: cut at C speed, pivoted by SQL, judged as its Python parser judges.

The Python parser (ingest_job/formats/ghcn_dly.py) is the specification:
every file here either loads exactly the rows it gives or is rejected with
its first ``file:line`` message, whichever way the loader took.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from ingest_job import formats, load, pivot
from ingest_job.formats.dly_cells import LINE, Cutter
from ingest_job.formats.raw import RawFile
from ingest_job.run import ingest
from tests.harness import ghcn_data
from tests.harness.postgres import rows
from tests.ingest.test_database_parsing import loaded_rows, parser_rows, url_of
from warehouse.settings import Settings

BLANK = "-9999   "


def line(head: str, days: list[str] | None = None) -> str:
    """One .dly line: ``head`` (station, year, month, element), then 31 day blocks."""
    blocks = days or ["   10  7"] * 31
    return head + "".join(blocks)


def month(head: str, last: int, value: str = "   10  7") -> str:
    """A month of ``last`` days with values, the rest -9999."""
    return line(head, [value] * last + [BLANK] * (31 - last))


def test_a_clean_dly_is_cut_whatever_the_chunks_and_pivoted_as_its_parser_reads_it(
    database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / ghcn_data.file_name("dly", 0)
    ghcn_data.write_dly(path, range(3), years=5, first_year=1999)  # 2000: a leap century
    data = path.read_bytes()
    expected, flagged = parser_rows(path)

    for size in (LINE, LINE + 1, 4096, len(data)):  # records cut across chunks, or whole
        raw = RawFile(path.name, "ghcn_dly")
        chunks = [data[i : i + size] for i in range(0, len(data), size)]
        with psycopg.connect(database_url) as conn:
            load.prepare_session(conn)
            pivoted = pivot.stage(conn, raw, chunks)
            got = rows_of(conn)
        assert pivoted is not None, size
        assert (pivoted.rows, pivoted.values_rejected_qc) == (len(expected), flagged)
        assert pivoted.stations == {ghcn_data.station_id(n) for n in range(3)}
        assert got == expected


def rows_of(conn: psycopg.Connection[tuple[object, ...]]) -> list[tuple[object, ...]]:
    return conn.execute(
        "SELECT station_id, obs_date::text, tmax_tenths_c, tmin_tenths_c, prcp_tenths_mm "
        "FROM stage_observation ORDER BY station_id, obs_date"
    ).fetchall()


def test_only_lines_of_269_plain_characters_are_cut() -> None:
    one = line("USZ00000000200001TMAX").encode()
    cutter = Cutter()
    cut = cutter.rows(one + b"\n" + one[:100]) + cutter.rows(one[100:]) + cutter.end()
    assert cutter.fixed
    assert cut.count(b"\n") == 2
    assert cut.split(b"\n")[0].split(b"\t")[:6] == [
        b"USZ00000000", b"2000", b"01", b"TMAX", b"   10", b" "  # value, Q flag
    ]  # fmt: skip
    for odd in (one[:-1] + b"\n" + one, one + b"\r\n" + one, one + b"\n\n" + one):
        cutter = Cutter()
        cutter.rows(odd)
        cutter.end()
        assert not cutter.fixed, odd[-300:]


# Each file: lines the parser refuses, or takes in a way the SQL must match.
FILES = {
    "bad station id": month("USZ 0000000200001TMAX", 31),
    "station id opening with -": month("-SZ00000000200001TMAX", 31),
    "year opening with 0": month("USZ000000000999" + "01TMAX", 31),
    "month 13": month("USZ00000000200013TMAX", 31),
    "month 00": month("USZ00000000200000TMAX", 31),
    "TMAX out of range": month("USZ00000000200001TMAX", 31, "99999  7"),
    "negative PRCP": month("USZ00000000200001PRCP", 31, "   -5  7"),
    "negative PRCP, flagged": month("USZ00000000200001PRCP", 31, "   -5 I7"),
    "29 February 1900": month("USZ00000000190002TMAX", 29),
    "29 February 2000": month("USZ00000000200002TMAX", 29),
    "31 April, flagged": month("USZ00000000200004TMIN", 31, "   10 I7"),
    "31 April in SNOW": month("USZ00000000200004SNOW", 31)
    + "\n"
    + month("USZ00000000200004TMAX", 30),
    "TMAX twice": month("USZ00000000200001TMAX", 31) + "\n" + month("USZ00000000200001TMAX", 3),
    "SNOW twice": month("USZ00000000200001SNOW", 31)
    + "\n"
    + month("USZ00000000200001SNOW", 31)
    + "\n"
    + month("USZ00000000200001TMIN", 31),
    "a month's elements far apart": month("USZ00000000200001TMAX", 31)
    + "\n"
    + month("USZ00000001200001TMAX", 31)
    + "\n"
    + month("USZ00000000200001PRCP", 31, "    0  7"),
    "a short line": month("USZ00000000200001TMAX", 31).rstrip(),
    "spaces inside a value": month("USZ00000000200001TMAX", 31, "  1 2  7"),
    "only missing values": month("USZ00000000200001TMAX", 0),
}


@pytest.mark.parametrize("case", FILES)
def test_a_dly_loads_or_is_rejected_as_its_parser_says(
    settings: Settings, tmp_path: Path, case: str
) -> None:
    path = tmp_path / "USZ00000000.dly"
    path.write_text(FILES[case] + "\n")
    parsed = formats.parse(path.name, path.read_bytes())

    report = ingest(settings, [str(path)])

    if parsed.ok:
        assert report.problems == []
        assert loaded_rows(settings) == parser_rows(path)[0]
        assert report.values_rejected_qc == parsed.values_rejected_qc
        stations = rows(url_of(settings), "SELECT station_id FROM station ORDER BY 1")
        assert {s for (s,) in stations} == set(parsed.stations)
    else:
        assert report.problems[0].startswith(str(parsed.errors[0])), report.problems
        assert loaded_rows(settings) == []
