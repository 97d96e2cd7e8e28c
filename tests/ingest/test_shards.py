"""ingest --shard I/N: shards load side by side, and together leave what one run leaves."""

from __future__ import annotations

import signal
from pathlib import Path

import psycopg

from ingest_job import shards
from tests import cli
from tests.harness import ghcn_data
from tests.harness.postgres import one, rows
from tests.ingest.station_files import write
from tests.ingest.tables import table_digest
from tests.ingest.test_command import MERGING, _wait_for_rollback
from warehouse.db import INGEST_LOCK_KEY, INGEST_SHARD_LOCK_CLASS


def catalogue(tmp_path: Path) -> Path:
    """Station files of every format, the yield file and the station inventory."""
    folder = tmp_path / "catalogue"
    ghcn_data.write_catalogue(folder, "txt", stations=6, years=4)
    ghcn_data.write_catalogue(folder, "dly", stations=3, years=3, first=6)
    ghcn_data.write_catalogue(folder, "csv", stations=3, years=3, first=9)
    write(folder, "US_corn_grain_yield.txt", ["1999\t239549", "2000\t251854"])
    write(folder, "ghcnd-stations.txt", [
        f"{ghcn_data.station_id(n)}  39.7833  -88.1667  198.1 IL STATION {n:<22}" for n in range(12)
    ])  # fmt: skip
    return folder


def test_two_shards_at_once_leave_the_tables_one_run_leaves(
    database_url: str, other_database: str, tmp_path: Path
) -> None:
    folder = catalogue(tmp_path)
    env = {"DATABASE_URL": database_url}
    shards = [cli.start("ingest", "--source", str(folder), "--shard", f"{i}/2", env=env)
              for i in range(2)]  # fmt: skip
    outcomes = [(shard.wait(timeout=300), shard.communicate()[1]) for shard in shards]
    assert [code for code, _ in outcomes] == [0, 0], outcomes
    whole = cli.run("ingest", "--source", str(folder), env={"DATABASE_URL": other_database})
    assert whole.returncode == 0, whole.stderr

    assert table_digest(database_url) == table_digest(other_database)
    seen = rows(database_url, "SELECT shard_index, shard_count, files_loaded FROM ingest_run "
                              "ORDER BY shard_index")  # fmt: skip
    assert [(i, n) for i, n, _ in seen] == [(0, 2), (1, 2)]
    assert sum(int(str(loaded)) for _, _, loaded in seen) == 14  # every file once


def test_a_shard_refuses_to_run_while_the_same_shard_runs(
    database_url: str, tmp_path: Path
) -> None:
    folder = catalogue(tmp_path)
    env = {"DATABASE_URL": database_url}
    with psycopg.connect(database_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock_shared(%s)", (INGEST_LOCK_KEY,))
        holder.execute("SELECT pg_advisory_lock(%s, 1)", (INGEST_SHARD_LOCK_CLASS,))
        same = cli.run("ingest", "--source", str(folder), "--shard", "1/2", env=env)
        whole = cli.run("ingest", "--source", str(folder), env=env)
        other = cli.run("ingest", "--source", str(folder), "--shard", "0/2", env=env)
    assert (same.returncode, whole.returncode, other.returncode) == (3, 3, 0), other.stderr
    assert "lock of shard 1" in same.stderr
    assert "another ingest run holds the lock" in whole.stderr


def test_shards_of_different_counts_refuse_to_overlap(database_url: str, tmp_path: Path) -> None:
    folder = catalogue(tmp_path)
    env = {"DATABASE_URL": database_url}
    with psycopg.connect(database_url, autocommit=True) as holder:
        # What shard 0/2 of a running split holds.
        assert shards.try_lock(holder, shards.Shard(0, 2))
        other_count = cli.run("ingest", "--source", str(folder), "--shard", "1/3", env=env)
        same_count = cli.run("ingest", "--source", str(folder), "--shard", "1/2", env=env)
    assert (other_count.returncode, same_count.returncode) == (3, 0), same_count.stderr
    assert "shards of a run split 2 ways, not 3" in other_count.stderr
    assert rows(database_url, "SELECT shard_index, shard_count FROM ingest_run") == [(1, 2)]


def test_a_refused_shard_holds_none_of_its_locks(database_url: str) -> None:
    with (
        psycopg.connect(database_url, autocommit=True) as first,
        psycopg.connect(database_url, autocommit=True) as second,
    ):
        assert shards.try_lock(first, shards.Shard(0, 2))
        assert not shards.try_lock(second, shards.Shard(1, 3))
        assert one(database_url, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                                 f" AND pid = {second.info.backend_pid}") == 0  # fmt: skip
        shards.unlock(first, shards.Shard(0, 2))
        assert shards.try_lock(second, shards.Shard(1, 3))


def _multi_station_file(folder: Path) -> tuple[Path, shards.Shard, list[str]]:
    """A .dly named for station 0 that also holds stations of the other shard of two."""
    owner = shards.Shard(0 if shards.Shard(0, 2).owns(ghcn_data.station_id(0)) else 1, 2)
    numbers = range(6)
    foreign = owner.foreign(ghcn_data.station_id(n) for n in numbers)
    assert foreign, "the six stations all fall in one shard: pick others"
    path = folder / ghcn_data.file_name("dly", 0)
    ghcn_data.write_dly(path, numbers, years=2)
    return path, owner, foreign


def test_a_shard_rejects_a_file_holding_other_shards_stations_and_loads_nothing_of_it(
    database_url: str, other_database: str, tmp_path: Path
) -> None:
    # The bulk path (a first load) and the streaming path (a file over the buffer).
    for buffer in ("16777216", "1024"):
        path, owner, foreign = _multi_station_file(tmp_path / f"buffer-{buffer}")
        env = {"DATABASE_URL": database_url, "INGEST_BUFFER_BYTES": buffer}
        shard = cli.run("ingest", "--source", str(path), "--shard", str(owner), env=env)
        assert shard.returncode == 1, shard.stderr
        assert f"{path.name}: holds stations of other shards ({foreign[0]}" in shard.stderr
        assert "load this file with a run without --shard" in shard.stderr
        assert one(database_url, "SELECT count(*) FROM observation") == 0
    whole = cli.run("ingest", "--source", str(path), env={"DATABASE_URL": other_database})
    assert whole.returncode == 0, whole.stderr
    assert one(other_database, "SELECT count(DISTINCT station_id) FROM observation") == 6


def test_a_shard_killed_mid_way_and_run_again_leaves_the_clean_result(
    database_url: str, other_database: str, tmp_path: Path
) -> None:
    folder = catalogue(tmp_path)
    ghcn_data.write_catalogue(folder, "txt", stations=40, years=20, first=100)
    env = {"DATABASE_URL": database_url}
    # Not a first load: files merge one by one, and the kill lands inside one.
    seed = tmp_path / "seed"
    write(seed, "USC00000001.txt", ["20000101\t1\t2\t3"])
    for url in (database_url, other_database):
        assert cli.run("ingest", "--source", str(seed), env={"DATABASE_URL": url}).returncode == 0
    assert cli.run("ingest", "--source", str(folder), "--shard", "0/2", env=env).returncode == 0

    shard = cli.start("ingest", "--source", str(folder), "--shard", "1/2", env=env)
    seen = False
    with psycopg.connect(database_url, autocommit=True) as watcher:
        while shard.poll() is None and not seen:
            row = watcher.execute(MERGING).fetchone()
            seen = row is not None and row[0] > 0
    assert seen, "shard 1 finished before it could be killed"
    shard.send_signal(signal.SIGKILL)
    shard.communicate()
    _wait_for_rollback(database_url)

    again = cli.run("ingest", "--source", str(folder), "--shard", "1/2", env=env)
    assert again.returncode == 0, again.stderr
    whole = cli.run("ingest", "--source", str(folder), env={"DATABASE_URL": other_database})
    assert whole.returncode == 0, whole.stderr
    assert table_digest(database_url) == table_digest(other_database)
    assert one(database_url, "SELECT count(*) FROM ingest_run WHERE status = 'failed'") == 1


def test_shard_from_the_indexed_job_environment(database_url: str, tmp_path: Path) -> None:
    folder = catalogue(tmp_path)
    env = {"DATABASE_URL": database_url, "INGEST_SHARDS": "3", "JOB_COMPLETION_INDEX": "2"}
    done = cli.run("ingest", "--source", str(folder), env=env)
    assert done.returncode == 0, done.stderr
    assert rows(database_url, "SELECT shard_index, shard_count FROM ingest_run") == [(2, 3)]
    unindexed = {"DATABASE_URL": database_url, "INGEST_SHARDS": "3"}
    missing = cli.run("ingest", "--source", str(folder), env=unindexed)
    assert missing.returncode == 2
    assert "INGEST_SHARDS is 3 but no shard is given" in missing.stderr
