"""GHCN-Daily CSV parsed by PostgreSQL, .dly by Python: the rows, counts and messages of parsers.

The Python parsers (ingest_job/formats) are the specification: a file the
database parses must load exactly the rows they give, and a bad file must be
rejected with their ``file:line`` messages.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from ingest_job import formats, pivot
from ingest_job.run import ingest
from tests.harness import ghcn_data
from tests.harness.postgres import one, rows, table_writer
from warehouse.errors import ExitCode
from warehouse.settings import Settings

CSV_HEAD = "ID,DATE,ELEMENT,DATA_VALUE,M_FLAG,Q_FLAG,S_FLAG,OBS_TIME\n"


@pytest.fixture(autouse=True, params=["session tables", "parallel pivot"])
def pivot_tier(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test twice: small files' temporary tables, and the parallel pivot of large ones."""
    if request.param == "parallel pivot":
        monkeypatch.setattr(pivot, "PARALLEL_BYTES", 0)
    return str(request.param)


def url_of(settings: Settings) -> str:
    return settings.database_url.get_secret_value()  # type: ignore[union-attr]


def parser_rows(path: Path) -> tuple[list[tuple[object, ...]], int]:
    """The observation rows and quality-flagged values the Python parser reads in a file."""
    parsed = formats.parse(path.name, path.read_bytes())
    assert parsed.ok, parsed.summary()
    found = []
    for line in parsed.payload.decode().splitlines():
        station, day, *values = line.split("\t")
        found.append((station, day, *(None if v == "\\N" else int(v) for v in values)))
    return sorted(found), parsed.values_rejected_qc  # type: ignore[type-var]


def loaded_rows(settings: Settings) -> list[tuple[object, ...]]:
    return rows(
        url_of(settings),
        "SELECT station_id, obs_date::text, tmax_tenths_c, tmin_tenths_c, prcp_tenths_mm "
        "FROM observation ORDER BY station_id, obs_date",
    )


@pytest.mark.parametrize("fmt", ["csv", "dly"])
def test_a_ghcn_file_loads_the_rows_and_quality_counts_its_parser_gives(
    settings: Settings, tmp_path: Path, fmt: ghcn_data.Format
) -> None:
    path = tmp_path / ghcn_data.file_name(fmt, 0)
    writer = ghcn_data.write_csv if fmt == "csv" else ghcn_data.write_dly
    writer(path, range(3), years=5, first_year=1999)  # 2000: a leap year of a century
    expected, flagged = parser_rows(path)

    report = ingest(settings, [str(path)])

    assert report.problems == []
    assert loaded_rows(settings) == expected
    assert (report.rows_inserted, report.values_rejected_qc) == (len(expected), flagged)
    assert flagged > 0
    stations = one(
        url_of(settings), "SELECT array_agg(station_id ORDER BY station_id) FROM station"
    )
    assert stations == [ghcn_data.station_id(n) for n in range(3)]


def test_a_changed_csv_merges_into_the_loaded_rows(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "USZ00000000.csv"
    path.write_text(CSV_HEAD + "USZ00000000,20000101,TMAX,10,,,7,\n")
    ingest(settings, [str(path)])
    path.write_text(CSV_HEAD + "USZ00000000,20000101,TMAX,11,,,7,\n"
                    "USZ00000000,20000102,TMAX,12,,,7,\n")  # fmt: skip

    report = ingest(settings, [str(path)])

    assert (report.rows_inserted, report.rows_updated) == (1, 1)
    assert [row[2] for row in loaded_rows(settings)] == [11, 12]


BAD_FILES = {
    "USZ00000001.csv": (
        CSV_HEAD + "USZ00000001,20000101,TMAX,10,,,7,\nUSZ00000001,20000230,TMAX,10,,,7,\n",
        "USZ00000001.csv:3: not a date (YYYYMMDD): '20000230'",
    ),
    "USZ00000002.csv": (
        CSV_HEAD + "USZ00000002,20000101,TMAX,10,,,7,\nUSZ00000002,20000101,TMAX,11,,,7,\n",
        "USZ00000002.csv:3: TMAX for 2000-01-01 appears twice",
    ),
    "USZ00000003.csv": (
        CSV_HEAD + "USZ00000003,20000101,TMAX,1.5,,,7,\n",
        "USZ00000003.csv:2: DATA_VALUE is not a whole number: '1.5'",
    ),
    "USZ00000004.csv": (
        CSV_HEAD + "USZ00000004,20000101,TMIN,40000,,,7,\n",
        "USZ00000004.csv:2: TMIN 40000 on 2000-01-01 is out of range",
    ),
    "USZ00000005.csv": (
        CSV_HEAD + "USZ00000005,20000101,PRCP,5,,,7\n",
        "USZ00000005.csv:2: expected 8 comma-separated fields, found 7",
    ),
    "USZ00000010.csv": (
        CSV_HEAD + "USZ00000010,20000101,TMAX,10,,,7,\nUSZ00000010,20000230,SNOW,0,,,7,\n",
        "USZ00000010.csv:3: not a date (YYYYMMDD): '20000230'",
    ),
    "USZ00000011.csv": (
        CSV_HEAD + "USZ00000011,20000101,TMAX,10,,,7,\nUSZ00000011,,TMAX,10,,,7,\n",
        "USZ00000011.csv:3: not a date (YYYYMMDD): ''",
    ),
    "USZ00000012.csv": (
        CSV_HEAD + "USZ00000012,20000101,TMAX,10,,,7,\n-USZ0000012,20000102,TMAX,10,,,7,\n",
        "USZ00000012.csv:3: not a station id: '-USZ0000012'",
    ),
    "USZ00000006.dly": (
        "USZ00000006200002PRCP" + "    5  7" * 29 + "    5  7-9999  7\n",
        "USZ00000006.dly:1: day 30 has a value but 2000-02 has 29 days",
    ),
    "USZ00000007.dly": (
        "USZ00000007200001TMAX" + "    5  7" * 30 + "  abc  7\n",
        "USZ00000007.dly:1: day 31: value is not a whole number: 'abc'",
    ),
    "USZ00000008.dly": (
        "USZ00000008200001TMAX" + "    5  7" * 31 + "\nUSZ00000008200001TMAX" + "-9999  7" * 31,
        "USZ00000008.dly:2: TMAX for 2000-01 appears twice (first on line 1)",
    ),
    "USZ00000009.dly": ("", "USZ00000009.dly:1: the file is empty"),
}


def test_bad_lines_are_named_as_the_parsers_name_them_and_nothing_loads(
    settings: Settings, tmp_path: Path
) -> None:
    for name, (content, _) in BAD_FILES.items():
        (tmp_path / name).write_text(content)
        report = ingest(settings, [str(tmp_path / name)])
        assert report.exit_code == ExitCode.FILES_REJECTED
        assert report.problems[0].startswith(BAD_FILES[name][1]), report.problems
    assert one(url_of(settings), "SELECT count(*) FROM observation") == 0


def test_a_csv_the_database_would_read_differently_loads_as_its_parser_reads_it(
    settings: Settings, tmp_path: Path
) -> None:
    # Quoted fields, spaces around values, an explicit plus sign, a blank line.
    path = tmp_path / "USZ00000000.csv"
    path.write_text(CSV_HEAD + '"USZ00000000","20000101","TMAX"," 10",,,7,\n\n'
                    "USZ00000000,20000102,TMAX,+5,,,7,\n")  # fmt: skip

    report = ingest(settings, [str(path)])

    assert report.exit_code == ExitCode.FILES_REJECTED  # "+5" is not a whole number to the parser
    assert report.problems[0].startswith("USZ00000000.csv:4: DATA_VALUE is not a whole number")
    path.write_text(CSV_HEAD + '"USZ00000000","20000101","TMAX"," 10",,,7,\n\n')
    assert ingest(settings, [str(path)]).problems == []
    assert [row[:3] for row in loaded_rows(settings)] == [("USZ00000000", "2000-01-01", 10)]


def test_a_value_copy_refuses_in_an_element_not_kept_does_not_reject_the_file(
    settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "USZ00000000.csv"
    path.write_text(CSV_HEAD + "USZ00000000,20000101,TMAX,10,,,7,\n"
                    "USZ00000000,20000101,SNWD,T,,,7,\n")  # fmt: skip

    report = ingest(settings, [str(path)])

    assert report.problems == []
    assert [row[:3] for row in loaded_rows(settings)] == [("USZ00000000", "2000-01-01", 10)]


def test_a_csv_leaves_no_table_of_its_own_behind(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "USZ00000000.csv").write_text(CSV_HEAD + "USZ00000000,20000101,TMAX,10,,,7,\n")
    (tmp_path / "USZ00000001.csv").write_text(BAD_FILES["USZ00000001.csv"][0])
    (tmp_path / "USZ00000002.csv").write_text(CSV_HEAD + "USZ00000002,20000101,TMIN,5,,,7,\n")

    report = ingest(settings, [str(tmp_path)])

    assert (report.files_loaded, report.files_rejected) == (2, 1)
    leftover = """SELECT count(*) FROM pg_class
                  WHERE starts_with(relname, 'ingest_csv_') AND relpersistence = 'u'"""
    assert one(url_of(settings), leftover) == 0


def test_a_user_who_may_not_create_tables_loads_a_csv_all_the_same(
    settings: Settings, tmp_path: Path
) -> None:
    # Its lines and days go to temporary tables instead (one process, no parallel workers).
    path = tmp_path / ghcn_data.file_name("csv", 0)
    ghcn_data.write_csv(path, range(2), years=2)
    expected, flagged = parser_rows(path)
    with table_writer(url_of(settings), "csv_writer") as writer:
        report = ingest(Settings(database_url=SecretStr(writer), log_format="text"), [str(path)])

    assert report.problems == []
    assert (report.rows_inserted, report.values_rejected_qc) == (len(expected), flagged)
    assert loaded_rows(settings) == expected
