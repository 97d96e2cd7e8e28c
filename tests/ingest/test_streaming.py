"""Parsing block by block gives what parsing a whole file gives, and loads the same table."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest_job import formats
from ingest_job.formats import ghcn_dly, station_txt
from ingest_job.run import ingest
from tests.harness import ghcn_data
from tests.ingest.tables import table_digest
from warehouse.settings import Settings


def pieces(data: bytes, size: int) -> Iterator[bytes]:
    """``data`` in chunks of ``size`` bytes, cut anywhere (mid-line too)."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def streamed(name: str, data: bytes, size: int) -> tuple[formats.Parsed, bytes]:
    parser = formats.parser(name, data)
    return parser.result, b"".join(formats.payloads(parser, pieces(data, size)))


@pytest.mark.parametrize("fmt", ghcn_data.FORMATS)
def test_a_file_parsed_in_small_blocks_gives_the_rows_of_the_whole_file(
    fmt: ghcn_data.Format, tmp_path: Path
) -> None:
    path = ghcn_data.write_catalogue(tmp_path, fmt, stations=1, years=12)[0]
    data = path.read_bytes()
    whole = formats.parse(path.name, data)
    result, payload = streamed(path.name, data, 7_919)  # a prime: blocks end mid-line
    assert whole.ok
    assert result.ok
    assert (result.rows, result.values_rejected_qc) == (whole.rows, whole.values_rejected_qc)
    assert sorted(payload.splitlines()) == sorted(whole.payload.splitlines())
    assert whole.rows > 4000


def test_a_date_of_an_earlier_block_is_rejected_with_both_lines() -> None:
    good = b"".join(b"1985%02d%02d\t1\t2\t3\n" % (m, d) for m in range(1, 13) for d in (1, 2))
    data = good + b"19850601\t4\t5\t6\n"
    result, payload = streamed("USC1.txt", data, 64)
    assert [str(e) for e in result.errors] == [
        "USC1.txt:25: date 19850601 appears twice (first on line 11)"
    ]
    assert payload.count(b"\n") < 25  # rows stop at the first bad line


def test_the_generated_station_file_beyond_year_9999_repeats_dates_and_is_rejected(
    tmp_path: Path,
) -> None:
    path = tmp_path / "USZ00000000.txt"
    ghcn_data.write_station_txt(path, years=3, first_year=9997, max_bytes=40_000)
    result, _ = streamed(path.name, path.read_bytes(), 4096)
    assert not result.ok
    # 9997, 9998 and 9999 have 1,095 days; the next line starts again.
    assert str(result.errors[0]) == (
        "USZ00000000.txt:1096: date 99970101 appears twice (first on line 1)"
    )


def test_a_dly_month_split_far_apart_is_combined_into_one_row_per_day(
    settings: Settings, other_database: str, tmp_path: Path
) -> None:
    source = ghcn_data.write_catalogue(tmp_path / "sorted", "dly", stations=1, years=80)[0]
    lines = source.read_bytes().splitlines(keepends=True)
    # TMAX lines moved to the end: each day's values come in two rows, far apart.
    tmax = [line for line in lines if line[17:21] == b"TMAX"]
    others = [line for line in lines if line[17:21] != b"TMAX"]
    moved = tmp_path / "moved" / source.name
    moved.parent.mkdir()
    moved.write_bytes(b"".join(others + tmax))
    parser = ghcn_dly.Parser(moved.name)
    for _ in formats.payloads(parser, pieces(moved.read_bytes(), 1 << 20)):
        pass
    assert parser.result.ok
    assert parser.result.partial

    streaming = settings.model_copy(update={"ingest_buffer_bytes": 0})
    assert ingest(streaming, [str(moved)]).files_loaded == 1
    other = Settings(database_url=other_database)  # type: ignore[arg-type]
    assert ingest(other, [str(source)]).files_loaded == 1
    url = settings.database_url.get_secret_value()  # type: ignore[union-attr]
    assert table_digest(url)["observation"] == table_digest(other_database)["observation"]
    assert table_digest(url)["weather_stats"] == table_digest(other_database)["weather_stats"]


@pytest.mark.parametrize("fmt", ghcn_data.FORMATS)
def test_files_streamed_through_staging_load_the_same_tables_as_a_bulk_load(
    fmt: ghcn_data.Format, settings: Settings, other_database: str, tmp_path: Path
) -> None:
    folder = tmp_path / "wx"
    ghcn_data.write_catalogue(folder, fmt, stations=3, years=5)
    streaming = settings.model_copy(update={"ingest_buffer_bytes": 0})
    report = ingest(streaming, [str(folder)])
    assert (report.files_loaded, report.exit_code) == (3, 0)
    other = Settings(database_url=other_database)  # type: ignore[arg-type]
    assert ingest(other, [str(folder)]).files_loaded == 3
    url = settings.database_url.get_secret_value()  # type: ignore[union-attr]
    assert table_digest(url) == table_digest(other_database)


def test_a_bad_line_deep_in_a_streamed_file_rolls_the_whole_file_back(
    settings: Settings, tmp_path: Path
) -> None:
    path = ghcn_data.write_catalogue(tmp_path, "txt", stations=1, years=40)[0]
    lines = path.read_bytes().splitlines(keepends=True)
    lines[-3] = b"20391229\tbroken\n"
    path.write_bytes(b"".join(lines))
    streaming = settings.model_copy(update={"ingest_buffer_bytes": 0})
    report = ingest(streaming, [str(path)])
    assert report.files_rejected == 1
    assert report.problems[0].startswith(f"{path.name}:{len(lines) - 2}: expected 4 tab-separated")
    url = settings.database_url.get_secret_value()  # type: ignore[union-attr]
    assert table_digest(url)["observation"][1] == 0


def test_station_txt_fast_path_is_used_block_by_block(tmp_path: Path) -> None:
    path = ghcn_data.write_catalogue(tmp_path, "txt", stations=1, years=30)[0]
    parser = station_txt.Parser(path.name)
    payload = b"".join(formats.payloads(parser, pieces(path.read_bytes(), 50_000)))
    assert parser.dates.by_day is not None  # several blocks: dates remembered by day
    assert parser.result.ok
    assert payload.count(b"\n") == parser.result.rows
