"""The operator's commands, through the real CLI: runs, runs show, --dry-run, --reload,
stats --recompute, and a known-bad file that no longer fails every run."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from datetime import date
from pathlib import Path

import psycopg

from tests import cli
from tests.harness import pushgateway
from tests.harness.postgres import one
from tests.ingest.station_files import station_lines, write
from tests.ingest.tables import table_digest
from warehouse.db import INGEST_LOCK_KEY

BAD = b"20000101\t1\t2\t3\n20000132\t1\t2\t3\n"


def ingest(
    url: str, *args: str, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return cli.run("ingest", *args, env={"DATABASE_URL": url, **(extra or {})})


def test_a_known_bad_file_is_reported_still_rejected_without_failing_the_run(
    database_url: str, wx_folder: Path, pushgateway_url: str
) -> None:
    (wx_folder / "USC00000007.txt").write_bytes(BAD)
    first = ingest(database_url, "--source", str(wx_folder))
    assert first.returncode == 1
    push = {"PUSHGATEWAY_URL": pushgateway_url}
    second = ingest(database_url, "--source", str(wx_folder), extra=push)
    assert second.returncode == 0, second.stderr
    assert "1 file(s) still rejected, unchanged since an earlier run" in second.stderr
    assert "USC00000007.txt: still rejected, unchanged since run 1" in second.stderr
    assert "USC00000007.txt:2: not a date" in second.stderr  # the reason it was rejected
    pushed = pushgateway.values(pushgateway_url, "weather_warehouse_ingest")
    assert pushed['weather_warehouse_ingest_files{outcome="still_rejected"}'] == 1
    assert pushed['weather_warehouse_ingest_files{outcome="rejected"}'] == 0
    assert one(database_url, "SELECT files_still_rejected FROM ingest_run WHERE run_id = 2") == 1

    write(wx_folder, "USC00000007.txt", station_lines(date(2000, 1, 1), 3))
    fixed = ingest(database_url, "--source", str(wx_folder))
    assert fixed.returncode == 0
    assert (
        one(database_url, "SELECT count(*) FROM observation WHERE station_id = 'USC00000007'") == 3
    )


def test_a_file_still_over_the_size_limit_is_still_rejected_until_the_limit_changes(
    database_url: str, wx_folder: Path
) -> None:
    big = write(wx_folder, "USC00000031.txt", station_lines(date(2000, 1, 1), 400))
    limit = {"INGEST_MAX_FILE_BYTES": str(big.stat().st_size - 1)}
    first = ingest(database_url, "--source", str(wx_folder), extra=limit)
    assert first.returncode == 1
    again = ingest(database_url, "--source", str(wx_folder), extra=limit)
    assert again.returncode == 0, again.stderr
    assert "USC00000031.txt: still rejected, unchanged since run 1" in again.stderr
    assert "is more than INGEST_MAX_FILE_BYTES" in again.stderr  # the reason it was rejected
    lower = {"INGEST_MAX_FILE_BYTES": str(big.stat().st_size - 2)}
    assert ingest(database_url, "--source", str(wx_folder), extra=lower).returncode == 1
    assert ingest(database_url, "--source", str(wx_folder)).returncode == 0
    assert (
        one(database_url, "SELECT count(*) FROM observation WHERE station_id = 'USC00000031'")
        == 400
    )


def test_a_changed_bad_file_is_a_new_failure(database_url: str, wx_folder: Path) -> None:
    (wx_folder / "USC00000007.txt").write_bytes(BAD)
    assert ingest(database_url, "--source", str(wx_folder)).returncode == 1
    (wx_folder / "USC00000007.txt").write_bytes(BAD + b"garbage\n")
    assert ingest(database_url, "--source", str(wx_folder)).returncode == 1


def test_reload_loads_named_files_even_if_unchanged_or_known_bad(
    database_url: str, wx_folder: Path
) -> None:
    assert ingest(database_url, "--source", str(wx_folder)).returncode == 0
    station = wx_folder / "USC00000001.txt"
    done = ingest(database_url, "--reload", str(station))
    assert done.returncode == 0, done.stderr
    summary = [json.loads(x) for x in done.stderr.splitlines() if x.startswith("{")][-1]
    assert (summary["files_loaded"], summary["files_skipped"]) == (1, 0)

    bad = wx_folder / "USC00000007.txt"
    bad.write_bytes(BAD)
    ingest(database_url, "--source", str(wx_folder))
    again = ingest(database_url, "--reload", str(bad))
    assert again.returncode == 1  # parsed again: still bad, a failure again
    assert "USC00000007.txt:2: not a date" in again.stderr


def test_dry_run_parses_and_reports_without_a_database(wx_folder: Path) -> None:
    nowhere = {"DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none"}
    clean = cli.run("ingest", "--dry-run", "--source", str(wx_folder), env=nowhere)
    assert clean.returncode == 0, clean.stderr
    lines = [json.loads(x) for x in clean.stderr.splitlines() if x.startswith("{")]
    assert [x["status"] for x in lines if x["message"] == "file checked"] == ["checked"] * 4
    assert lines[-1]["files_checked"] == 4

    (wx_folder / "USC00000007.txt").write_bytes(BAD)
    bad = cli.run("ingest", "--dry-run", "--source", str(wx_folder), env=nowhere)
    assert bad.returncode == 1
    assert "USC00000007.txt:2: not a date (YYYYMMDD): '20000132'" in bad.stderr


def test_dry_run_writes_nothing(database_url: str, wx_folder: Path) -> None:
    assert ingest(database_url, "--dry-run", "--source", str(wx_folder)).returncode == 0
    assert one(database_url, "SELECT count(*) FROM ingest_run") == 0
    assert one(database_url, "SELECT count(*) FROM observation") == 0


def test_runs_lists_recent_runs_as_json_and_shows_a_runs_files(
    database_url: str, wx_folder: Path
) -> None:
    (wx_folder / "USC00000007.txt").write_bytes(BAD)
    ingest(database_url, "--source", str(wx_folder))
    ingest(database_url, "--source", str(wx_folder))
    env = {"DATABASE_URL": database_url}
    listed = cli.run("runs", env=env)
    assert listed.returncode == 0, listed.stderr
    runs = json.loads(listed.stdout)["runs"]
    assert [(r["run_id"], r["status"], r["files_still_rejected"]) for r in runs] == [
        (2, "succeeded", 1), (1, "failed", 0)
    ]  # fmt: skip
    failed = json.loads(cli.run("runs", "--status", "failed", env=env).stdout)["runs"]
    assert [r["run_id"] for r in failed] == [1]

    shown = cli.run("runs", "show", "1", "--status", "rejected", env=env)
    document = json.loads(shown.stdout)
    assert document["run"]["files_rejected"] == 1
    ((file,),) = [document["files"]]
    assert file["uri"].endswith("USC00000007.txt")
    assert "USC00000007.txt:2: not a date" in file["error"]
    assert cli.run("runs", "show", "99", env=env).returncode == 2


def test_runs_table_at_a_terminal(database_url: str, wx_folder: Path) -> None:
    ingest(database_url, "--source", str(wx_folder))
    leader, follower = pty.openpty()
    done = subprocess.run(
        [sys.executable, "-m", "command", "runs", "show", "1"],
        env=cli.command_env({"DATABASE_URL": database_url}), stdout=follower,
        stderr=subprocess.PIPE, timeout=60, check=False,
    )  # fmt: skip
    os.close(follower)
    text = os.read(leader, 65536).decode()
    os.close(leader)
    assert done.returncode == 0
    assert text.splitlines()[0].split()[:3] == ["run_id", "shard", "status"]
    assert "4 file(s)" in text
    assert "US_corn_grain_yield.txt" in text


def test_stats_recompute_restores_figures_without_a_source(
    database_url: str, wx_folder: Path
) -> None:
    ingest(database_url, "--source", str(wx_folder))
    before = table_digest(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE weather_stats SET avg_max_temp_c = 99")
    done = cli.run("stats", "--recompute", env={"DATABASE_URL": database_url})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["station_years"] == 6
    assert table_digest(database_url) == before


def test_stats_recompute_waits_for_no_run(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (INGEST_LOCK_KEY,))
        done = cli.run("stats", "--recompute", env={"DATABASE_URL": database_url})
    assert done.returncode == 3
    assert "an ingest run holds the lock" in done.stderr


def test_audit_rows_past_retention_are_deleted_but_the_ledger_keeps_what_it_needs(
    database_url: str, wx_folder: Path
) -> None:
    ingest(database_url, "--source", str(wx_folder))
    ingest(database_url, "--source", str(wx_folder))  # 4 skipped rows
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE ingest_file SET started_at = now() - interval '200 days'")
    third = ingest(database_url, "--source", str(wx_folder))
    assert third.returncode == 0
    # Run 1's loaded rows stay (each file's latest load); run 2's skipped rows are gone.
    assert one(database_url, "SELECT count(*) FROM ingest_file WHERE run_id = 1") == 4
    assert one(database_url, "SELECT count(*) FROM ingest_file WHERE run_id = 2") == 0
    assert one(database_url, "SELECT count(*) FROM ingest_file WHERE run_id = 3") == 4
