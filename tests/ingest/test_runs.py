"""Runs over local files: idempotency, changed files, bad input, the ledger."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import psycopg
import pytest
from pydantic import SecretStr

from ingest_job.run import ingest
from tests.harness.postgres import one, rows, table_writer
from tests.ingest.station_files import station_lines, write
from tests.ingest.tables import table_digest
from warehouse.errors import ExitCode
from warehouse.settings import Settings


def url_of(settings: Settings) -> str:
    return settings.database_url.get_secret_value()  # type: ignore[union-attr]


def test_first_run_loads_every_file_and_records_the_run(
    settings: Settings, wx_folder: Path
) -> None:
    report = ingest(settings, [str(wx_folder)])
    assert report.exit_code == ExitCode.OK
    assert (report.files_seen, report.files_loaded, report.rows_inserted) == (4, 4, 3 * 62 + 2)
    url = url_of(settings)
    assert rows(url, "SELECT status, files_seen, files_loaded, rows_inserted FROM ingest_run") == [
        ("succeeded", 4, 4, 188)
    ]
    assert one(url, "SELECT count(*) FROM ingest_file WHERE status = 'loaded'") == 4
    assert one(url, "SELECT count(*) FROM observation") == 186
    assert one(url, "SELECT count(*) FROM weather_stats") == 6  # 3 stations x 1999, 2000


def test_second_run_over_the_same_files_changes_nothing(
    settings: Settings, wx_folder: Path
) -> None:
    ingest(settings, [str(wx_folder)])
    before = table_digest(url_of(settings))
    again = ingest(settings, [str(wx_folder)])
    assert (again.files_skipped, again.rows_inserted, again.rows_updated) == (4, 0, 0)
    assert table_digest(url_of(settings)) == before
    assert one(url_of(settings), "SELECT count(*) FROM ingest_file WHERE status = 'skipped'") == 4


def test_same_content_redelivered_under_another_name_inserts_and_updates_nothing(
    settings: Settings, wx_folder: Path, tmp_path: Path
) -> None:
    ingest(settings, [str(wx_folder)])
    copy = write(tmp_path / "again", "USC00000001.txt", station_lines(date(1999, 12, 1), 62))
    report = ingest(settings, [str(copy)])
    assert (report.files_loaded, report.rows_inserted, report.rows_updated) == (1, 0, 0)


def test_changed_file_latest_delivery_wins_and_new_rows_are_added(
    settings: Settings, wx_folder: Path
) -> None:
    ingest(settings, [str(wx_folder)])
    url = url_of(settings)
    stats_before = {
        (s, y): t
        for s, y, t in rows(url, "SELECT station_id, year, computed_at FROM weather_stats")
    }
    lines = station_lines(date(1999, 12, 1), 62, seed=1)  # USC00000002's content
    lines[0] = "19991201\t  333\t  111\t    7"  # a corrected value in 1999
    lines.append("20000201\t   10\t    5\t    0")  # a new day in 2000
    write(wx_folder, "USC00000002.txt", lines)

    report = ingest(settings, [str(wx_folder)])

    assert (report.files_loaded, report.files_skipped) == (1, 3)
    assert (report.rows_inserted, report.rows_updated) == (1, 1)
    assert rows(
        url,
        "SELECT tmax_tenths_c, tmin_tenths_c, prcp_tenths_mm FROM observation "
        "WHERE station_id = 'USC00000002' AND obs_date = '1999-12-01'",
    ) == [(333, 111, 7)]
    assert one(url, "SELECT observation_count FROM station WHERE station_id = 'USC00000002'") == 63
    assert one(url, "SELECT last_date FROM station WHERE station_id = 'USC00000002'") == date(
        2000, 2, 1
    )
    stats_after = {
        (s, y): t
        for s, y, t in rows(url, "SELECT station_id, year, computed_at FROM weather_stats")
    }
    recomputed = {key for key in stats_after if stats_after[key] != stats_before[key]}
    assert recomputed == {("USC00000002", 1999), ("USC00000002", 2000)}


def test_a_file_changed_back_to_an_earlier_version_is_loaded_again(
    settings: Settings, tmp_path: Path
) -> None:
    first = station_lines(date(2001, 1, 1), 3)
    second = [line.replace("\t", "\t ", 1) for line in first]  # padding only: same values
    second[0] = "20010101\t  100\t   50\t    1"
    path = write(tmp_path, "USC00000009.txt", first)
    ingest(settings, [str(path)])
    write(tmp_path, "USC00000009.txt", second)
    ingest(settings, [str(path)])
    write(tmp_path, "USC00000009.txt", first)
    report = ingest(settings, [str(path)])
    assert (report.files_loaded, report.rows_updated) == (1, 1)


BAD_FILES = {
    "USC00000010.txt": (b"", "USC00000010.txt:1: the file is empty"),
    "USC00000011.txt": (b"20000101\t1\t2\n", "USC00000011.txt:1: expected 4 tab-separated fields"),
    "USC00000012.txt": (b"20000101\t1\tx\t3\n", "USC00000012.txt:1: minimum temperature is not"),
    "USC00000013.txt": (b"19850230\t1\t2\t3\n", "USC00000013.txt:1: not a date (YYYYMMDD)"),
    "USC00000014.txt": (
        b"19850101\t1\t2\t3\n19850101\t1\t2\t3\n",
        "USC00000014.txt:2: date 19850101 appears twice",
    ),
    "stations 2000.txt": (
        b"20000101\t1\t2\t3\n",
        "stations 2000.txt: the name is not a station id",
    ),
}


def test_bad_files_are_rejected_whole_with_file_line_reasons_and_good_files_load(
    settings: Settings, wx_folder: Path
) -> None:
    for name, (content, _) in BAD_FILES.items():
        (wx_folder / name).write_bytes(content)
    write(wx_folder, "USC00000020.txt", ["20000101\t1\t2\t3", "20000102\t4\t5\t6"], newline="\r\n")

    report = ingest(settings, [str(wx_folder)])

    assert report.exit_code == ExitCode.FILES_REJECTED
    assert (report.files_loaded, report.files_rejected) == (5, len(BAD_FILES))
    for _, expected in BAD_FILES.values():
        assert any(problem.startswith(expected) for problem in report.problems), expected
    url = url_of(settings)
    bad_ids = [name.removesuffix(".txt") for name in BAD_FILES]
    assert one(url, "SELECT count(*) FROM observation WHERE station_id = ANY(%s)", (bad_ids,)) == 0
    assert one(url, "SELECT count(*) FROM observation WHERE station_id = 'USC00000020'") == 2
    assert one(url, "SELECT status FROM ingest_run") == "failed"
    assert one(url, "SELECT count(*) FROM ingest_file WHERE status = 'rejected'") == len(BAD_FILES)
    assert "USC00000013.txt:1: not a date" in str(
        one(url, "SELECT error FROM ingest_file WHERE uri LIKE %s", ("%USC00000013.txt",))
    )


def test_rejected_file_leaves_earlier_data_of_its_station_untouched(
    settings: Settings, wx_folder: Path
) -> None:
    ingest(settings, [str(wx_folder)])
    before = table_digest(url_of(settings))
    lines = station_lines(date(1999, 12, 1), 62)
    lines[0] = "19991201\t  999\t  999\t    9"
    lines[40] = "20000110\tbroken"
    write(wx_folder, "USC00000001.txt", lines)
    report = ingest(settings, [str(wx_folder)])
    assert report.files_rejected == 1
    assert table_digest(url_of(settings)) == before


def test_a_file_over_the_size_limit_is_rejected_unread_and_the_others_load(
    settings: Settings, tmp_path: Path
) -> None:
    small = write(tmp_path, "USC00000030.txt", station_lines(date(2000, 1, 1), 3))
    big = write(tmp_path, "USC00000031.txt", station_lines(date(2000, 1, 1), 400))
    limited = settings.model_copy(update={"ingest_max_file_bytes": big.stat().st_size - 1})
    report = ingest(limited, [str(tmp_path)])
    assert report.exit_code == ExitCode.FILES_REJECTED
    assert (report.files_loaded, report.files_rejected) == (1, 1)
    (problem,) = report.problems
    assert problem.startswith(f"{big}: {big.stat().st_size:,} bytes is more than")
    assert "INGEST_MAX_FILE_BYTES" in problem
    url = url_of(settings)
    assert one(url, "SELECT count(*) FROM observation WHERE station_id = %s", (small.stem,)) == 3
    assert one(url, "SELECT count(*) FROM observation WHERE station_id = %s", (big.stem,)) == 0


def test_missing_folder_is_a_source_unreachable_failure(settings: Settings, tmp_path: Path) -> None:
    report = ingest(settings, [str(tmp_path / "nowhere")])
    assert report.exit_code == ExitCode.SOURCE_UNREACHABLE
    assert report.error is not None
    assert "no such file or folder" in report.error
    assert rows(url_of(settings), "SELECT status, error FROM ingest_run") == [
        ("failed", report.error)
    ]


def test_no_source_is_a_configuration_error(settings: Settings) -> None:
    with pytest.raises(Exception, match="no source given"):
        ingest(settings, [])


def test_yield_file_loads_and_a_changed_year_is_updated(settings: Settings, tmp_path: Path) -> None:
    path = write(tmp_path, "US_corn_grain_yield.txt", ["1985\t225447", "1986\t208944"])
    ingest(settings, [str(path)])
    write(tmp_path, "US_corn_grain_yield.txt", ["1985\t225447", "1986\t200000", "1987\t181143"])
    report = ingest(settings, [str(path)])
    assert (report.rows_inserted, report.rows_updated) == (1, 1)
    assert rows(url_of(settings), "SELECT * FROM crop_yield ORDER BY year") == [
        (1985, 225447), (1986, 200000), (1987, 181143)
    ]  # fmt: skip


def test_station_inventory_fills_names_without_touching_counts(
    settings: Settings, wx_folder: Path, tmp_path: Path
) -> None:
    ingest(settings, [str(wx_folder)])
    inventory = write(
        tmp_path, "ghcnd-stations.txt",
        ["USC00000001  39.7833  -88.1667  198.1 IL CAMARGO                       "],
    )  # fmt: skip
    ingest(settings, [str(inventory)])
    assert rows(
        url_of(settings),
        "SELECT name, state, latitude, observation_count FROM station "
        "WHERE station_id = 'USC00000001'",
    ) == [("CAMARGO", "IL", 39.7833, 62)]


def test_dly_file_loads_and_counts_quality_rejections(settings: Settings, real_data: Path) -> None:
    report = ingest(settings, [str(real_data / "ghcnd" / "USC00044534.dly")])
    assert (report.rows_inserted, report.values_rejected_qc) == (14685, 84)
    assert one(url_of(settings), "SELECT values_rejected_qc FROM ingest_run") == 84


def test_a_killed_run_left_running_is_marked_failed_by_the_next(
    settings: Settings, wx_folder: Path
) -> None:
    url = url_of(settings)
    rows(url, "INSERT INTO ingest_run (source) VALUES ('killed') RETURNING run_id")
    ingest(settings, [str(wx_folder)])
    assert rows(url, "SELECT source, status FROM ingest_run ORDER BY run_id") == [
        ("killed", "failed"), (str(wx_folder), "succeeded")
    ]  # fmt: skip


def test_a_user_who_does_not_own_the_tables_still_loads_file_by_file(
    settings: Settings, wx_folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    owner = url_of(settings)
    with table_writer(owner, "ingest_writer") as writer:
        report = ingest(
            Settings(database_url=SecretStr(writer), log_format="text"), [str(wx_folder)]
        )
        assert (report.exit_code, report.files_loaded, report.rows_inserted) == (
            ExitCode.OK,
            4,
            188,
        )
        assert one(owner, "SELECT count(*) FROM weather_stats") == 6
        assert "first load merges file by file" in caplog.messages


def test_observation_files_load_again_after_the_table_was_emptied(
    settings: Settings, wx_folder: Path
) -> None:
    ingest(settings, [str(wx_folder)])
    before = table_digest(url_of(settings))
    with psycopg.connect(url_of(settings), autocommit=True) as conn:
        conn.execute("TRUNCATE observation, weather_stats")
    report = ingest(settings, [str(wx_folder)])
    assert (report.files_loaded, report.files_skipped) == (3, 1)  # the yield file is unchanged
    assert table_digest(url_of(settings)) == before
