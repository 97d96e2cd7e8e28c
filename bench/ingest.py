"""Ingest benchmark on the real data: fresh load, the bare floor, re-run, changed files, RSS.

    .venv/bin/python bench/ingest.py [--data DIR] [--database-url URL]
    .venv/bin/python bench/ingest.py --memory 10,100,1000   # peak RSS per format and MB
    .venv/bin/python bench/ingest.py --s3-objects 20000     # unchanged re-run over S3 (moto)
    .venv/bin/python bench/ingest.py --shard-rows 20000000  # fresh load: 1 shard, 2 shards, floor
    .venv/bin/python bench/ingest.py --scale  # the three above, in one run (about an hour)
    .venv/bin/python bench/ingest.py --noaa 100x30 --repeat 2  # CSV and .dly: ours, floor

``--memory`` loads one generated file (tests/harness/ghcn_data.py) of each
format and size (MB) into a fresh database with the real command and prints
its peak RSS; the files are written to a temporary folder and deleted after
each run.

Each ingest runs as the real command in a child process (its wall time and
peak RSS are measured from outside; the run's own duration comes from its
summary log line). The floor is the least any loader must do for the same
end state on the same server, one connection: COPY every row into a table
without indexes, add the primary key, compute the statistics with one
GROUP BY. Without ``--database-url`` a throwaway PostgreSQL server is
started (fsync off, as in the tests); with it, the benchmark works in a
database of its own that it creates and drops.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import psycopg

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.servers import throwaway_postgres  # noqa: E402
from command.postgres_server import EmbeddedPostgres  # noqa: E402
from ingest_job import formats, pivot_dly  # noqa: E402
from ingest_job.formats.dly_cells import Cutter  # noqa: E402
from tests.harness.data import real_data  # noqa: E402
from warehouse import migrate  # noqa: E402

FLOOR_TABLE = """CREATE TABLE floor_observation (station_id text NOT NULL, obs_date date NOT NULL,
    tmax_tenths_c smallint, tmin_tenths_c smallint, prcp_tenths_mm integer)"""
FLOOR_STATS = """CREATE TABLE floor_stats AS
SELECT station_id, extract(year FROM obs_date)::smallint AS year,
       round(avg(tmax_tenths_c) / 10, 6) AS avg_max, round(avg(tmin_tenths_c) / 10, 6) AS avg_min,
       round(sum(prcp_tenths_mm)::numeric / 100, 2) AS precip,
       count(tmax_tenths_c) AS max_days, count(tmin_tenths_c) AS min_days,
       count(prcp_tenths_mm) AS precip_days
FROM floor_observation GROUP BY 1, 2"""


@contextmanager
def database(url: str | None) -> Iterator[str]:
    """A fresh, migrated database: on the given server, or on a throwaway one."""
    if url is None:
        with (
            throwaway_postgres("bench-pg-") as (_, server),
            _migrated(server.url("postgres")) as target,
        ):
            yield target
    else:
        name = f"weather_bench_{os.getpid()}"
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        target = psycopg.conninfo.make_conninfo(url, dbname=name)
        try:
            with _migrated(target) as migrated:
                yield migrated
        finally:
            with psycopg.connect(url, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextmanager
def _migrated(url: str) -> Iterator[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        migrate.migrate(conn)
    yield url


# Forks and execs the measured command from a small interpreter, then reports
# the child's rusage: a child forked straight from this (large) process would
# have this process's resident memory counted into its peak RSS by exec.
LAUNCHER = """
import json, os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(json.dumps({"exit": os.waitstatus_to_exitcode(status), "maxrss_kib": usage.ru_maxrss}))
"""


def run_ingest(url: str, *sources: Path | str, accept: tuple[int, ...] = (0,)) -> dict[str, float]:
    """The real command in a child process: wall time, peak RSS, the run's own figures."""
    command = [sys.executable, "-m", "command", "ingest"]
    for source in sources:
        command += ["--source", str(source)]
    env = {**os.environ, "DATABASE_URL": url, "LOG_FORMAT": "json", "LOG_LEVEL": "INFO",
           "INGEST_MAX_FILE_BYTES": str(8 * 1024**3)}  # fmt: skip
    env.pop("PUSHGATEWAY_URL", None)
    env.pop("CLOUDWATCH_NAMESPACE", None)
    with tempfile.TemporaryFile("w+") as log:  # a file, not a pipe: the log never blocks
        started = time.perf_counter()
        measured = subprocess.run(
            [sys.executable, "-I", "-S", "-c", LAUNCHER, *command],
            env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=log, text=True, check=True,
        )  # fmt: skip
        wall = time.perf_counter() - started
        log.seek(0)
        stderr = log.read()
    outcome = json.loads(measured.stdout)
    if outcome["exit"] not in accept:
        raise SystemExit(f"ingest exited {outcome['exit']}:\n{stderr}")
    summary = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")][-1]
    return {
        "wall_s": wall,
        "run_s": float(summary["duration_s"]),
        "rss_mb": outcome["maxrss_kib"] / 1024,
        "inserted": float(summary["rows_inserted"]),
        "updated": float(summary["rows_updated"]),
        "loaded": float(summary["files_loaded"]),
        "rejected": float(summary["files_rejected"]),
    }


def floor(url: str, folder: Path, *, stream: bool = False) -> dict[str, float]:
    """COPY every row into an index-less table, add the primary key, one GROUP BY.

    The files are parsed before the clock starts, all held in memory; with
    ``stream`` (a folder too big to hold) each is parsed while the COPY runs,
    and its parsing is timed too.
    """
    files = sorted(folder.iterdir())
    held = [] if stream else [_payload(path) for path in files]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '256MB'")  # as the bulk load does
        conn.execute(FLOOR_TABLE)
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy("COPY floor_observation FROM STDIN") as copy:
            for payload in (_payload(path) for path in files) if stream else held:
                copy.write(payload)
        copied = time.perf_counter()
        conn.execute("ALTER TABLE floor_observation ADD PRIMARY KEY (station_id, obs_date)")
        keyed = time.perf_counter()
        conn.execute(FLOOR_STATS)
        done = time.perf_counter()
        conn.execute("DROP TABLE floor_observation, floor_stats")
    return {
        "copy_s": copied - started,
        "key_s": keyed - copied,
        "stats_s": done - keyed,
        "total_s": done - started,
    }


def _payload(path: Path) -> bytes:
    return formats.parse(path.name, path.read_bytes()).payload


def change_values(path: Path) -> None:
    """Change the maximum temperature of a file's first line (a corrected delivery)."""
    lines = path.read_bytes().split(b"\n")
    fields = lines[0].split(b"\t")
    fields[1] = b"%5d" % (int(fields[1]) + 1 if int(fields[1]) != -9999 else 0)
    lines[0] = b"\t".join(fields)
    path.write_bytes(b"\n".join(lines))


def memory(url: str, sizes_mb: list[int], only: list[str] | None = None) -> None:
    """Peak RSS of the real command loading one generated file of each format and size."""
    from tests.harness import ghcn_data

    print(load_line())
    for size in sizes_mb:
        for fmt in ghcn_data.FORMATS:
            if only and fmt not in only:
                continue
            work = Path(tempfile.mkdtemp(prefix="bench-mem-"))
            try:
                path = ghcn_data.write_sized(work, fmt, size * 1024 * 1024)
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute("TRUNCATE observation, weather_stats, station, ingest_file, "
                                 "ingest_run")  # fmt: skip
                run = run_ingest(url, path, accept=(0, 1))
            finally:
                shutil.rmtree(work, ignore_errors=True)
            outcome = "loaded" if run["loaded"] else "rejected: dates repeat past 9999"
            megabytes = size * 1.048576
            print(
                f"{fmt:>4} {megabytes:7.0f} MB: peak RSS {run['rss_mb']:5.0f} MB, "
                f"{run['inserted']:>10,.0f} rows, run {run['run_s']:7.1f} s, {outcome}",
                flush=True,
            )


def load_line() -> str:
    load = ", ".join(f"{figure:.1f}" for figure in os.getloadavg())
    return f"machine: {os.cpu_count()} CPUs, load average {load} (other work skews timings)"


def s3_catalogue(objects: int) -> None:
    """An unchanged re-run over ``objects`` S3 objects on a moto server, against one listing."""
    from concurrent.futures import ThreadPoolExecutor

    import boto3

    from tests.harness import moto

    with moto.running_server() as endpoint, database(None) as url:
        os.environ.update({**moto.AWS_ENV, "AWS_ENDPOINT_URL": endpoint})
        client = boto3.client("s3", endpoint_url=endpoint)
        client.create_bucket(Bucket="ghcn")
        body = b"20000101\t  100\t   50\t    3\n20000102\t  110\t   40\t    0\n"
        started = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            keys = [f"by_station/USZ{n:08d}.txt" for n in range(objects)]
            list(pool.map(lambda key: client.put_object(Bucket="ghcn", Key=key, Body=body), keys))
        uploaded = time.perf_counter() - started
        started = time.perf_counter()
        listed = sum(
            len(page.get("Contents", []))
            for page in client.get_paginator("list_objects_v2").paginate(Bucket="ghcn")
        )
        listing = time.perf_counter() - started
        source = "s3://ghcn/by_station/"
        seeded = seed_ledger(url, client, source)
        again = run_ingest(url, source)
        print(load_line())
        print(f"S3 on moto: {listed:,} objects (uploaded in {uploaded:.0f} s)")
        print(f"one listing (boto3 paginator, 1,000 keys a page): {listing:.2f} s")
        print(f"ledger seeded with {seeded:,} loaded files (as a first run leaves it)")
        print(f"unchanged re-run: run {again['run_s']:.2f} s, command {again['wall_s']:.2f} s, "
              f"{again['loaded']:.0f} loaded, {again['inserted']:.0f} inserted, "
              f"peak RSS {again['rss_mb']:.0f} MB "
              f"(= {again['run_s'] / listing:.1f} listings)")  # fmt: skip


def seed_ledger(url: str, client: Any, source: str) -> int:
    """The ledger a first run over the bucket leaves: every object loaded with its ETag.

    Loading 20,000 objects from moto on a busy 2-core machine takes most of an
    hour (moto serves each GET in about 0.1 s there), and is not what is measured.
    """
    bucket, _, prefix = source.removeprefix("s3://").partition("/")
    rows = [
        (f"s3://{bucket}/{item['Key']}", f"etag:{item['ETag'].strip(chr(34))}", item["Size"])
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for item in page.get("Contents", [])
    ]
    with psycopg.connect(url, autocommit=True) as conn:
        found = conn.execute(
            "INSERT INTO ingest_run (source, status, finished_at) "
            "VALUES (%s, 'succeeded', now()) RETURNING run_id",
            (source,),
        ).fetchone()
        assert found is not None
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY ingest_file (run_id, uri, checksum, size_bytes, format, status, rows_read, "
                "rows_inserted) FROM STDIN"
            ) as copy,
        ):
            for uri, etag, size in rows:
                copy.write_row((found[0], uri, etag, size, "station_txt", "loaded", 2, 2))
        conn.execute("INSERT INTO observation VALUES ('USZ99999999', '2000-01-01', 1, 1, 1)")
        conn.execute("ANALYZE")
    return len(rows)


def start_ingest(url: str, source: Path, shard: str) -> subprocess.Popen[str]:
    """The real command for one shard, started (not waited for); its log to a temporary file."""
    env = {**os.environ, "DATABASE_URL": url, "LOG_FORMAT": "json", "LOG_LEVEL": "WARNING"}
    return subprocess.Popen(
        [sys.executable, "-m", "command", "ingest", "--source", str(source), "--shard", shard],
        env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip


def shards(rows: int) -> None:
    """A fresh load of ``rows`` generated rows: one whole run, two shards at once, the floor.

    Also the CPU each took, in the ingest processes and in PostgreSQL (all its
    processes, backends included once they have exited): on two cores the
    shards cannot run faster than one run, but their CPU says what they would
    take with a core each.
    """
    from tests.harness import ghcn_data

    years = 25
    stations = rows // (years * 365) + 1
    work = Path(tempfile.mkdtemp(prefix="bench-shards-"))
    try:
        started = time.perf_counter()
        ghcn_data.write_catalogue(work / "wx", "txt", stations=stations, years=years)
        size = sum(p.stat().st_size for p in (work / "wx").iterdir())
        print(f"generated {stations:,} station files, {size / 1e6:,.0f} MB, "
              f"in {time.perf_counter() - started:.0f} s", flush=True)  # fmt: skip
        with throwaway_postgres("bench-pg-") as (_, server), _migrated(server.url()) as url:
            clock = CpuClock(server)
            whole = run_ingest(url, work / "wx")
            whole_cpu = clock.lap()
            total = whole["inserted"]
            print(f"1 shard (whole run, drop-key bulk): run {whole['run_s']:.1f} s, "
                  f"{total / whole['run_s']:,.0f} rows/s, peak RSS {whole['rss_mb']:.0f} MB, "
                  f"CPU {whole_cpu}", flush=True)  # fmt: skip
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("TRUNCATE observation, weather_stats, station, ingest_file, "
                             "ingest_run")  # fmt: skip
                conn.execute("VACUUM ANALYZE")
            clock.lap()
            started = time.perf_counter()
            running = [start_ingest(url, work / "wx", f"{i}/2") for i in range(2)]
            codes = [p.wait() for p in running]
            both = time.perf_counter() - started
            both_cpu = clock.lap()
            with psycopg.connect(url) as conn:
                found = conn.execute("SELECT count(*) FROM observation").fetchone()
            count = found[0] if found else 0
            print(f"2 shards at once (keyed COPY each): {both:.1f} s (commands, exit {codes}), "
                  f"{total / both:,.0f} rows/s, {count:,} rows, CPU {both_cpu}",
                  flush=True)  # fmt: skip
            bare = floor(url, work / "wx", stream=True)
        print(f"bare floor: {bare['total_s']:.1f} s (COPY {bare['copy_s']:.1f} s, primary key "
              f"{bare['key_s']:.1f} s, GROUP BY {bare['stats_s']:.1f} s), "
              f"{total / bare['total_s']:,.0f} rows/s")  # fmt: skip
        print(f"ours / floor: 1 shard {whole['run_s'] / bare['total_s']:.2f}, "
              f"2 shards {both / bare['total_s']:.2f}")  # fmt: skip
        per_shard = max(both_cpu.ingest / 2, both_cpu.database / 2)
        print(f"2 shards with a core each for parsing and for their backend: about "
              f"{per_shard:.1f} s (the busier half of their CPU), "
              f"{total / per_shard:,.0f} rows/s")  # fmt: skip
        print(load_line())
    finally:
        shutil.rmtree(work, ignore_errors=True)


@dataclass
class Cpu:
    """CPU seconds (user + system) spent between two laps."""

    ingest: float
    database: float

    def __str__(self) -> str:
        return f"{self.ingest:.1f} s ingest + {self.database:.1f} s PostgreSQL"


class CpuClock:
    """CPU of this process's finished children (the ingest commands) and of a PostgreSQL server."""

    def __init__(self, server: EmbeddedPostgres) -> None:
        pid = server.pid()
        assert pid is not None
        self.postmaster = psutil.Process(pid)
        self.last = self._now()

    def lap(self) -> Cpu:
        now = self._now()
        spent = Cpu(now[0] - self.last[0], now[1] - self.last[1])
        self.last = now
        return spent

    def _now(self) -> tuple[float, float]:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        times = self.postmaster.cpu_times()
        database = times.user + times.system + times.children_user + times.children_system
        for process in self.postmaster.children():
            with contextlib.suppress(psutil.NoSuchProcess):
                live = process.cpu_times()
                database += live.user + live.system
        return children.ru_utime + children.ru_stime, database


NOAA_CSV_FLOOR = (
    """CREATE UNLOGGED TABLE floor_csv (id text, day text, element text, value integer,
        m_flag text, q_flag text, s_flag text, obs_time text)""",
    "COPY floor_csv FROM STDIN (FORMAT csv, HEADER true)",
    """CREATE TABLE floor_observation AS
    SELECT id AS station_id, day::date AS obs_date,
           max(value) FILTER (WHERE element = 'TMAX')::smallint AS tmax_tenths_c,
           max(value) FILTER (WHERE element = 'TMIN')::smallint AS tmin_tenths_c,
           max(value) FILTER (WHERE element = 'PRCP') AS prcp_tenths_mm
    FROM floor_csv
    WHERE element IN ('TMAX', 'TMIN', 'PRCP') AND value <> -9999 AND q_flag IS NULL
    GROUP BY id, day""",
)
NOAA_DLY_FLOOR = (
    "CREATE UNLOGGED TABLE floor_dly (line text)",
    "COPY floor_dly FROM STDIN",  # one field per line: a .dly holds no tab or backslash
    # The 31 day blocks of a line cut by one regular expression: the fastest
    # way found (31 substr calls per line cost about 1.3 times as much).
    """CREATE TABLE floor_observation AS
    SELECT substr(head, 1, 11) AS station_id,
           make_date(substr(head, 12, 4)::int, substr(head, 16, 2)::int, day::int) AS obs_date,
           max(value) FILTER (WHERE element = 'TMAX')::smallint AS tmax_tenths_c,
           max(value) FILTER (WHERE element = 'TMIN')::smallint AS tmin_tenths_c,
           max(value) FILTER (WHERE element = 'PRCP') AS prcp_tenths_mm
    FROM (SELECT substr(line, 1, 17) AS head, substr(line, 18, 4) AS element, line,
                 extract(day FROM make_date(substr(line, 12, 4)::int, substr(line, 16, 2)::int,
                                            1) + interval '1 month - 1 day') AS month_days
          FROM floor_dly WHERE substr(line, 18, 4) IN ('TMAX', 'TMIN', 'PRCP')) l
    CROSS JOIN LATERAL regexp_matches(substr(line, 22), '(.{5}).(.).', 'g')
               WITH ORDINALITY AS m(block, day)
    CROSS JOIN LATERAL (SELECT block[1]::int AS value, block[2] AS q_flag OFFSET 0) cell
    WHERE value <> -9999 AND q_flag = ' ' AND day <= month_days
    GROUP BY head, day""",
)
# Not the floor: the .dly lines cut into fields by our struct format
# (formats/dly_cells.py, as our load does), then one GROUP BY per
# station-month unnested into days. What our .dly path costs at the least.
NOAA_DLY_CUT_FLOOR = (
    pivot_dly.RAW_DLY.replace(
        "CREATE TEMP TABLE IF NOT EXISTS raw_dly", "CREATE UNLOGGED TABLE floor_dly"
    ).replace(" ON COMMIT DELETE ROWS", ""),
    "COPY floor_dly FROM STDIN",
    """CREATE TABLE floor_observation AS
    SELECT id AS station_id, make_date(year::int, month::int, 1) + (d.day::int - 1) AS obs_date,
           d.tmax::smallint AS tmax_tenths_c, d.tmin::smallint AS tmin_tenths_c,
           d.prcp AS prcp_tenths_mm
    FROM (SELECT id, year, month,
                 max(kept) FILTER (WHERE element = 'TMAX') AS tmax,
                 max(kept) FILTER (WHERE element = 'TMIN') AS tmin,
                 max(kept) FILTER (WHERE element = 'PRCP') AS prcp
          FROM (SELECT id, year, month, element, ARRAY[<kept>] AS kept FROM floor_dly
                WHERE element IN ('TMAX', 'TMIN', 'PRCP')) l
          GROUP BY id, year, month) m,
         unnest(tmax, tmin, prcp) WITH ORDINALITY AS d(tmax, tmin, prcp, day)
    WHERE coalesce(d.tmax, d.tmin, d.prcp) IS NOT NULL""".replace("<kept>", pivot_dly.KEPT),
)


def noaa_floor(url: str, path: Path, statements: tuple[str, ...]) -> dict[str, float]:
    """A GHCN-Daily file's floor: COPY its raw lines, one pivot, the key, the yearly GROUP BY.

    Then what a load now also writes, timed apart (``more_s``): the monthly
    GROUP BY and the indices' own statement, as bench/indices.py's floor.
    """
    from bench.indices import FLOOR_STATISTICS  # it imports this module
    from ingest_job import indices, pivot

    create, copy_statement, pivot_statement = statements
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '256MB'")  # as the bulk load does
        # As ingest_job.pivot does for both formats (its statements' work_mem).
        conn.execute("SELECT set_config('work_mem', %s, false)", (pivot.WORK_MEM,))
        conn.execute(create)
        started = time.perf_counter()
        cutter = Cutter() if statements is NOAA_DLY_CUT_FLOOR else None
        with conn.cursor() as cur, cur.copy(copy_statement) as copy, path.open("rb") as file:
            while block := file.read(1 << 20):
                copy.write(cutter.rows(block) if cutter else block)
            if cutter:
                copy.write(cutter.end())
        copied = time.perf_counter()
        conn.execute(pivot_statement)
        pivoted = time.perf_counter()
        conn.execute("ALTER TABLE floor_observation ADD PRIMARY KEY (station_id, obs_date)")
        keyed = time.perf_counter()
        conn.execute(FLOOR_STATS)
        done = time.perf_counter()
        for statement in FLOOR_STATISTICS[:2]:  # its month sums and monthly table
            conn.execute(statement)
        with conn.transaction():
            conn.execute("ANALYZE floor_observation")
            conn.execute("SET LOCAL jit = off")  # as ingest_job.indices does
            conn.execute(indices.all_figures("floor_observation"))
        more = time.perf_counter() - done
        found = conn.execute("SELECT count(*) FROM floor_observation").fetchone()
        conn.execute("DROP TABLE floor_observation, floor_stats, floor_monthly, floor_month_sums, "
                     + create.split()[3])  # fmt: skip
    return {"copy_s": copied - started, "pivot_s": pivoted - copied, "key_s": keyed - pivoted,
            "stats_s": done - keyed, "total_s": done - started, "more_s": more,
            "rows": float(found[0] if found else 0)}  # fmt: skip


def change_one_value(path: Path, fmt: str) -> None:
    """A corrected delivery: the first kept value of the file changes (the rest stays)."""
    data = path.read_bytes()
    if fmt == "csv":
        head, _, rest = data.partition(b"\n")
        line, _, rest = rest.partition(b"\n")
        fields = line.split(b",")
        fields[3] = b"%d" % (int(fields[3]) + 1)
        path.write_bytes(head + b"\n" + b",".join(fields) + b"\n" + rest)
    else:
        value = int(data[21:26])
        changed = b"%5d" % (0 if value == -9999 else value + 1)
        path.write_bytes(data[:21] + changed + data[26:])


def noaa(stations: int, years: int, repeat: int) -> None:
    """By-station CSV and .dly of the same rows: our fresh load and merge, and their floors."""
    from tests.harness import ghcn_data

    work = Path(tempfile.mkdtemp(prefix="bench-noaa-"))
    try:
        files = {}
        for fmt in ("csv", "dly"):
            path = work / fmt / ghcn_data.file_name(fmt, 0)  # type: ignore[arg-type]
            writer = ghcn_data.write_csv if fmt == "csv" else ghcn_data.write_dly
            path.parent.mkdir()
            writer(path, range(stations), years=years)
            lines = path.read_bytes().count(b"\n")
            files[fmt] = path
            megabytes = path.stat().st_size / 1e6
            print(f"{fmt}: {stations} stations x {years} years, {megabytes:.0f} MB, "
                  f"{lines:,} lines", flush=True)  # fmt: skip
        with database(None) as url:
            for attempt in range(1, repeat + 1):
                for fmt, path in files.items():
                    _noaa_one(url, fmt, path, attempt)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _noaa_one(url: str, fmt: str, path: Path, attempt: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE observation, weather_stats, monthly_stats, station, ingest_file, "
                     "ingest_run")  # fmt: skip
        conn.execute("VACUUM ANALYZE")
    before = os.getloadavg()[0]
    fresh = run_ingest(url, path)
    changed = path.with_name(path.name)
    original = path.read_bytes()
    change_one_value(changed, fmt)
    merge = run_ingest(url, changed)
    path.write_bytes(original)
    bare = noaa_floor(url, path, NOAA_CSV_FLOOR if fmt == "csv" else NOAA_DLY_FLOOR)
    rows = fresh["inserted"]
    same = "same rows" if rows == bare["rows"] else f"floor has {bare['rows']:,.0f} rows!"
    print(f"[{attempt}] {fmt}: fresh load run {fresh['run_s']:.1f} s ({rows / fresh['run_s']:,.0f} "
          f"rows/s, peak RSS {fresh['rss_mb']:.0f} MB); floor {bare['total_s']:.1f} s (COPY "
          f"{bare['copy_s']:.1f}, pivot {bare['pivot_s']:.1f}, key {bare['key_s']:.1f}, GROUP BY "
          f"{bare['stats_s']:.1f}); ours / floor {fresh['run_s'] / bare['total_s']:.2f}; "
          f"{rows:,.0f} rows, {same}", flush=True)  # fmt: skip
    with_more = bare["total_s"] + bare["more_s"]
    print(f"[{attempt}] {fmt}: floor with monthly statistics and indices {with_more:.1f} s "
          f"(+{bare['more_s']:.1f}); ours / that floor {fresh['run_s'] / with_more:.2f}; "
          f"merge / floor {merge['run_s'] / bare['total_s']:.2f}", flush=True)  # fmt: skip
    if fmt == "dly":
        cut = noaa_floor(url, path, NOAA_DLY_CUT_FLOOR)
        print(f"[{attempt}] dly: floor with the lines cut as ours are (not the issue's) "
              f"{cut['total_s']:.1f} s (COPY {cut['copy_s']:.1f}, pivot {cut['pivot_s']:.1f}, "
              f"key {cut['key_s']:.1f}, GROUP BY {cut['stats_s']:.1f}); ours / that floor "
              f"{fresh['run_s'] / cut['total_s']:.2f}", flush=True)  # fmt: skip
    after = os.getloadavg()[0]
    print(f"[{attempt}] {fmt}: merge of the file with one value changed: run "
          f"{merge['run_s']:.1f} s, {merge['updated']:.0f} row updated, "
          f"{merge['inserted']:.0f} inserted; load average {before:.1f} before, "
          f"{after:.1f} after", flush=True)  # fmt: skip


def noaa_main(shape: str, repeat: int) -> None:
    """``--noaa 100x30``: the load average before and after the runs."""
    stations, years = (int(x) for x in shape.split("x"))
    print(load_line())
    noaa(stations, years, repeat)
    print(load_line())


def scale() -> None:
    """NOAA scale in one run: peak RSS per format and size, 20 M rows sharded, 20,000 objects."""
    started = time.perf_counter()
    print("== peak RSS: one generated file of each format and size ==", flush=True)
    with database(None) as url:
        memory(url, [10, 100, 1000])
    print("\n== a fresh load of 20 M rows: 1 shard, 2 shards at once, the floor ==", flush=True)
    shards(20_000_000)
    print("\n== an unchanged re-run over 20,000 S3 objects (moto) ==", flush=True)
    s3_catalogue(20_000)
    print(f"\nwhole benchmark: {(time.perf_counter() - started) / 60:.0f} min")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=None, help="default: the data set in data/ (unpacked)"
    )
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--memory", default=None, metavar="MB,MB,...")
    parser.add_argument("--formats", default=None, metavar="txt,dly,csv", help="with --memory")
    parser.add_argument("--s3-objects", type=int, default=None, metavar="N")
    parser.add_argument("--shard-rows", type=int, default=None, metavar="ROWS")
    parser.add_argument("--noaa", default=None, metavar="STATIONSxYEARS", help="e.g. 100x30")
    parser.add_argument("--repeat", default=1, type=int, help="with --noaa: runs in a row")
    parser.add_argument(
        "--scale", action="store_true",
        help="--memory 10,100,1000, --shard-rows 20000000 and --s3-objects 20000 in one run",
    )  # fmt: skip
    return parser.parse_args()


def main() -> None:
    args = _arguments()
    if args.scale:
        scale()
        return
    if args.s3_objects:
        s3_catalogue(args.s3_objects)
        return
    if args.shard_rows:
        shards(args.shard_rows)
        return
    if args.noaa:
        noaa_main(args.noaa, args.repeat)
        return
    if args.memory:
        with database(args.database_url) as url:
            only = args.formats.split(",") if args.formats else None
            memory(url, [int(x) for x in args.memory.split(",")], only)
        return
    data = args.data or real_data()

    work = Path(tempfile.mkdtemp(prefix="bench-data-"))
    try:
        # A private copy, so that the benchmark can change files.
        wx = work / "wx_data"
        shutil.copytree(data / "wx_data", wx)
        yld = work / "yld_data"
        shutil.copytree(data / "yld_data", yld)
        files = sorted(wx.iterdir())

        with database(args.database_url) as url:
            fresh = run_ingest(url, wx, yld)
            rerun = run_ingest(url, wx, yld)
            change_values(files[0])
            one = run_ingest(url, wx, yld)
            for path in files[1:11]:
                change_values(path)
            ten = run_ingest(url, wx, yld)
            bare = floor(url, wx)  # last: it holds every row in this process's memory

        rows = int(fresh["inserted"])
        load = ", ".join(f"{figure:.1f}" for figure in os.getloadavg())
        print(f"machine: {os.cpu_count()} CPUs, load average {load} (other work skews timings)")
        print(f"data: {len(files)} station files + yield file, {rows:,} rows inserted")
        print(
            f"fresh load (stats included): run {fresh['run_s']:.2f} s, "
            f"command {fresh['wall_s']:.2f} s, peak RSS {fresh['rss_mb']:.0f} MB, "
            f"{rows / fresh['run_s']:,.0f} rows/s"
        )
        print(
            f"bare floor: {bare['total_s']:.2f} s (COPY {bare['copy_s']:.2f} s, "
            f"primary key {bare['key_s']:.2f} s, GROUP BY {bare['stats_s']:.2f} s)"
        )
        print(
            f"ours / floor: {fresh['run_s'] / bare['total_s']:.2f} (run), "
            f"{fresh['wall_s'] / bare['total_s']:.2f} (command, interpreter start included)"
        )
        print(
            f"re-run, nothing changed: run {rerun['run_s']:.3f} s, "
            f"command {rerun['wall_s']:.2f} s, "
            f"peak RSS {rerun['rss_mb']:.0f} MB, {rerun['inserted']:.0f} inserted, "
            f"{rerun['updated']:.0f} updated"
        )
        print(
            f"1 changed station file: run {one['run_s']:.3f} s, command {one['wall_s']:.2f} s, "
            f"{one['loaded']:.0f} file loaded, {one['updated']:.0f} row updated, "
            f"peak RSS {one['rss_mb']:.0f} MB"
        )
        print(
            f"10 changed station files: run {ten['run_s']:.3f} s, command {ten['wall_s']:.2f} s, "
            f"{ten['loaded']:.0f} files loaded, {ten['updated']:.0f} rows updated"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
