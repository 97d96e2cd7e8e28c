"""The real ``weather-warehouse ingest`` command: exit codes, log lines, a SIGKILL mid-COPY."""

from __future__ import annotations

import json
import signal
from datetime import date
from pathlib import Path

import psycopg

from tests import cli
from tests.harness.postgres import one, rows
from tests.harness.waiting import wait_for
from tests.ingest.station_files import station_lines, write
from tests.ingest.tables import table_digest
from warehouse.db import INGEST_LOCK_KEY


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_success_logs_one_json_line_per_file_and_a_summary(
    database_url: str, wx_folder: Path
) -> None:
    done = cli.run("ingest", "--source", str(wx_folder), env={"DATABASE_URL": database_url})
    assert done.returncode == 0, done.stderr
    lines = json_lines(done.stderr)
    files = [line for line in lines if line["message"] == "file loaded"]
    assert sorted(Path(str(line["uri"])).name for line in files) == sorted(
        p.name for p in wx_folder.iterdir()
    )
    summary = lines[-1]
    assert summary["message"] == "ingest run finished"
    assert (summary["status"], summary["files_loaded"], summary["rows_inserted"]) == (
        "succeeded", 4, 188
    )  # fmt: skip


def test_rejected_files_exit_1_and_name_the_bad_lines(database_url: str, wx_folder: Path) -> None:
    (wx_folder / "USC00000007.txt").write_bytes(b"20000101\t1\t2\t3\n20000132\t1\t2\t3\n")
    done = cli.run("ingest", "--source", str(wx_folder), env={"DATABASE_URL": database_url})
    assert done.returncode == 1
    assert "USC00000007.txt:2: not a date (YYYYMMDD): '20000132'" in done.stderr
    assert one(database_url, "SELECT count(*) FROM ingest_file WHERE status = 'loaded'") == 4


def test_unreachable_database_exits_2(wx_folder: Path) -> None:
    done = cli.run(
        "ingest", "--source", str(wx_folder),
        env={"DATABASE_URL": "postgresql://nobody:secret@127.0.0.1:9/none"},
    )  # fmt: skip
    assert done.returncode == 2
    assert "cannot connect to PostgreSQL at 127.0.0.1:9/none" in done.stderr
    assert "secret" not in done.stderr


def test_lock_held_exits_3_with_a_clear_message(database_url: str, wx_folder: Path) -> None:
    with psycopg.connect(database_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (INGEST_LOCK_KEY,))
        done = cli.run("ingest", "--source", str(wx_folder), env={"DATABASE_URL": database_url})
    assert done.returncode == 3
    assert "another ingest run holds the lock" in done.stderr


def test_unreadable_source_exits_4(database_url: str, tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    done = cli.run("ingest", "--source", str(missing), env={"DATABASE_URL": database_url})
    assert done.returncode == 4
    assert f"{missing}: no such file or folder" in done.stderr


def big_folder(tmp_path: Path, stations: int) -> Path:
    """Station files of 20 years each (7,305 rows), so that loading lasts a while."""
    folder = tmp_path / "big"
    for number in range(stations):
        write(folder, f"USC9{number:07d}.txt", station_lines(date(1990, 1, 1), 7305, seed=number))
    return folder


# The run's session is inside a COPY that has stored rows.
COPYING = """SELECT count(*) FROM pg_stat_progress_copy p JOIN pg_stat_activity a USING (pid)
             WHERE a.application_name = 'weather-warehouse-ingest' AND p.tuples_processed > 0"""
# The run's session is inside a file's transaction that has written rows.
MERGING = """SELECT count(*) FROM pg_stat_activity
             WHERE application_name = 'weather-warehouse-ingest' AND backend_xid IS NOT NULL
               AND (query LIKE 'COPY "stage_%%' OR query LIKE '%%merged%%')"""


def kill_when(
    database_url: str, folder: Path, condition: str, sig: signal.Signals = signal.SIGKILL
) -> tuple[int, str]:
    """Start a run, send ``sig`` as soon as PostgreSQL shows ``condition``; exit code, stderr."""
    process = cli.start("ingest", "--source", str(folder), env={"DATABASE_URL": database_url})
    seen = False
    with psycopg.connect(database_url, autocommit=True) as watcher:
        while process.poll() is None and not seen:
            row = watcher.execute(condition).fetchone()
            seen = row is not None and row[0] > 0
    assert seen, "the run finished before the moment to kill it was seen"
    process.send_signal(sig)
    _, stderr = process.communicate()
    _wait_for_rollback(database_url)
    return process.returncode, stderr


def test_sigkill_during_first_bulk_copy_leaves_nothing_and_a_rerun_gives_the_clean_table(
    database_url: str, other_database: str, tmp_path: Path
) -> None:
    folder = big_folder(tmp_path, 60)
    kill_when(database_url, folder, COPYING)

    assert one(database_url, "SELECT count(*) FROM observation") == 0
    assert one(database_url, "SELECT count(*) FROM ingest_file") == 0
    assert rows(database_url, "SELECT status FROM ingest_run") == [("running",)]

    rerun = cli.run("ingest", "--source", str(folder), env={"DATABASE_URL": database_url})
    assert rerun.returncode == 0, rerun.stderr
    clean = cli.run("ingest", "--source", str(folder), env={"DATABASE_URL": other_database})
    assert clean.returncode == 0, clean.stderr
    assert table_digest(database_url) == table_digest(other_database)
    assert rows(database_url, "SELECT status FROM ingest_run ORDER BY run_id") == [
        ("failed",), ("succeeded",)
    ]  # fmt: skip


def test_sigkill_during_a_file_merge_leaves_whole_files_only(
    database_url: str, other_database: str, tmp_path: Path, wx_folder: Path
) -> None:
    for url in (database_url, other_database):  # not empty: files merge one by one
        assert (
            cli.run("ingest", "--source", str(wx_folder), env={"DATABASE_URL": url}).returncode == 0
        )
    folder = big_folder(tmp_path, 12)
    kill_when(database_url, folder, MERGING)

    per_station = dict(
        rows(database_url, "SELECT station_id, count(*) FROM observation "
                           "WHERE station_id LIKE 'USC9%%' GROUP BY 1")
    )  # fmt: skip
    assert set(per_station.values()) <= {7305}  # every station whole, or absent
    loaded = one(database_url, "SELECT count(*) FROM ingest_file WHERE uri LIKE '%%/big/%%'")
    assert loaded == len(per_station)
    assert len(per_station) < 12

    for url in (database_url, other_database):
        assert cli.run("ingest", "--source", str(folder), env={"DATABASE_URL": url}).returncode == 0
    assert table_digest(database_url) == table_digest(other_database)


def test_sigterm_during_first_load_rolls_it_back_and_records_the_run_failed(
    database_url: str, tmp_path: Path
) -> None:
    code, _ = kill_when(database_url, big_folder(tmp_path, 60), COPYING, signal.SIGTERM)
    assert code == 128 + signal.SIGTERM
    assert one(database_url, "SELECT count(*) FROM observation") == 0
    ((status, error),) = rows(database_url, "SELECT status, error FROM ingest_run")
    assert status == "failed"
    assert "stopped by a signal" in str(error)


def test_a_second_run_started_during_a_first_exits_3_at_once(
    database_url: str, wx_folder: Path
) -> None:
    env = {"DATABASE_URL": database_url}
    with (
        psycopg.connect(database_url) as blocker,
        psycopg.connect(database_url, autocommit=True) as watcher,
    ):
        # Hold the first run mid-way: its yield file waits for this lock.
        blocker.execute("LOCK TABLE crop_yield IN ACCESS EXCLUSIVE MODE")
        first = cli.start("ingest", "--source", str(wx_folder), env=env)
        waiting = False
        while first.poll() is None and not waiting:
            # A fresh statement each time: autocommit, so the view is not a snapshot.
            row = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE application_name = 'weather-warehouse-ingest' AND wait_event_type = 'Lock'"
            ).fetchone()
            waiting = row is not None and row[0] > 0
        assert waiting, "the first run never reached the yield file"
        second = cli.run("ingest", "--source", str(wx_folder), env=env)
        blocker.rollback()
    first.communicate()
    assert (first.returncode, second.returncode) == (0, 3)
    assert "another ingest run holds the lock" in second.stderr
    assert rows(database_url, "SELECT count(*) FROM ingest_run") == [(1,)]


def _wait_for_rollback(url: str) -> None:
    """Until the killed client's server process is gone (its transaction rolled back)."""
    query = (
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'weather-warehouse-ingest'"
    )
    with psycopg.connect(url, autocommit=True) as conn:
        wait_for(lambda: conn.execute(query).fetchone() == (0,),
                 "the killed run's database session to end", every=0.05)  # fmt: skip


def test_sigterm_during_first_load_audits_nothing_loaded_and_exit_code_143(
    database_url: str, tmp_path: Path
) -> None:
    code, stderr = kill_when(database_url, big_folder(tmp_path, 60), COPYING, signal.SIGTERM)

    assert code == 143
    assert one(database_url, "SELECT count(*) FROM observation") == 0
    audit = rows(
        database_url,
        "SELECT status, files_loaded, rows_inserted, exit_code FROM ingest_run",
    )
    assert audit == [("failed", 0, 0, 143)]
    assert one(database_url, "SELECT count(*) FROM ingest_file WHERE status = 'loaded'") == 0
    summary = json_lines(stderr)[-1]
    assert (summary["exit_code"], summary["files_loaded"], summary["rows_inserted"]) == (143, 0, 0)
    assert not [line for line in json_lines(stderr) if line["message"] == "file loaded"]
