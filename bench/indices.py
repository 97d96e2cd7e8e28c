"""Indices benchmark on the real data: the fresh load beside its floor, and where the time goes.

    .venv/bin/python bench/indices.py [--repeat N] [--database-url URL]

Each round, in a fresh database: the real ingest command loads the shipped
data (statistics and indices included), then the floor runs on the same
server. The floor is the least work that reaches the same end state, on one
connection, from rows parsed before its clock starts: COPY every row into a
table without indexes, add the primary key, one GROUP BY of the rows per
station-month whose sums give the monthly and the yearly figures and the
station totals (keyed tables, as the API reads them), then the indices' own
statement (``ingest_job.indices.all_figures``) into a keyed table. Then one
station file changes (a value on 1 January, so one station-year) and is
merged: the benchmark counts the station-years whose indices that run
rewrote.

Without ``--database-url`` the benchmark starts its own server and logs the
duration of every statement, so that it prints where the fresh load's time
goes: the COPY (which waits on the parsing of the files), the key, the
statistics, the indices, other statements, and the time between statements
(Python, round trips). The load average is printed with every figure: the
machine is shared.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.ingest import _payload, change_values, load_line, run_ingest  # noqa: E402
from bench.servers import throwaway_postgres  # noqa: E402
from ingest_job import indices  # noqa: E402
from tests.harness.data import real_data  # noqa: E402
from warehouse import migrate  # noqa: E402

# The observation table as migration 0001 makes it, without its key.
FLOOR_TABLE = """CREATE TABLE floor_observation (station_id text NOT NULL, obs_date date NOT NULL,
    tmax_tenths_c smallint, tmin_tenths_c smallint,
    prcp_tenths_mm integer CHECK (prcp_tenths_mm >= 0))"""

# One read of the rows: exact sums and counts per station-month (as
# ingest_job.stats does), from which every statistic follows.
FLOOR_MONTH_SUMS = """CREATE TEMP TABLE floor_month_sums AS
SELECT station_id, extract(year FROM obs_date)::smallint AS year,
       extract(month FROM obs_date)::smallint AS month,
       sum(tmax_tenths_c) AS tmax_sum, count(tmax_tenths_c) AS max_days,
       sum(tmin_tenths_c) AS tmin_sum, count(tmin_tenths_c) AS min_days,
       sum(prcp_tenths_mm) AS prcp_sum, count(prcp_tenths_mm) AS precip_days,
       count(*) AS days, min(obs_date) AS first_date, max(obs_date) AS last_date
FROM floor_observation GROUP BY 1, 2, 3"""

FLOOR_STATISTICS = (
    FLOOR_MONTH_SUMS,
    """CREATE TABLE floor_monthly AS
SELECT station_id, year, month,
       round(tmax_sum::numeric / nullif(max_days, 0) / 10, 6) AS avg_max,
       round(tmin_sum::numeric / nullif(min_days, 0) / 10, 6) AS avg_min,
       round(prcp_sum::numeric / 100, 2) AS precip, max_days, min_days, precip_days
FROM floor_month_sums""",
    """CREATE TABLE floor_stats AS
SELECT station_id, year,
       round(sum(tmax_sum) / nullif(sum(max_days), 0) / 10, 6) AS avg_max,
       round(sum(tmin_sum) / nullif(sum(min_days), 0) / 10, 6) AS avg_min,
       round(sum(prcp_sum) / 100, 2) AS precip, sum(max_days) AS max_days,
       sum(min_days) AS min_days, sum(precip_days) AS precip_days
FROM floor_month_sums GROUP BY 1, 2""",
    """CREATE TABLE floor_station AS
SELECT station_id, min(first_date) AS first_date, max(last_date) AS last_date,
       sum(days) AS observation_count
FROM floor_month_sums GROUP BY 1""",
    # The keys the API's tables have (migrations 0001 and 0003).
    "ALTER TABLE floor_stats ADD PRIMARY KEY (station_id, year)",
    "ALTER TABLE floor_monthly ADD PRIMARY KEY (station_id, year, month)",
    "CREATE INDEX ON floor_monthly (year, month, station_id)",
    "ALTER TABLE floor_station ADD PRIMARY KEY (station_id)",
)

FLOOR_INDICES_TABLE = (
    "CREATE TABLE floor_indices AS TABLE index_figures",
    "ALTER TABLE floor_indices ADD PRIMARY KEY (station_id, year)",
    "CREATE INDEX ON floor_indices (year, station_id)",
)


def floor(url: str, folder: Path) -> dict[str, float]:
    """The floor's steps on ``url``, each timed; the files are parsed before the clock starts."""
    held = [_payload(path) for path in sorted(folder.iterdir())]
    times: dict[str, float] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '256MB'")  # as the bulk load does
        conn.execute(FLOOR_TABLE)
        clock = time.perf_counter()

        def lap(name: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            times[name] = now - clock
            clock = now

        with conn.cursor() as cur, cur.copy("COPY floor_observation FROM STDIN") as copy:
            for payload in held:
                copy.write(payload)
        lap("copy_s")
        conn.execute("ALTER TABLE floor_observation ADD PRIMARY KEY (station_id, obs_date)")
        lap("key_s")
        for statement in FLOOR_STATISTICS:
            conn.execute(statement)
        lap("statistics_s")
        with conn.transaction():
            conn.execute("SET LOCAL jit = off")  # as ingest_job.indices does
            conn.execute(indices.all_figures("floor_observation"))
            for statement in FLOOR_INDICES_TABLE:
                conn.execute(statement)
        lap("indices_s")
        conn.execute("DROP TABLE floor_observation, floor_stats, floor_monthly, floor_station, "
                     "floor_indices, floor_month_sums")  # fmt: skip
    times["today_s"] = times["copy_s"] + times["key_s"] + times["statistics_s"]
    times["total_s"] = times["today_s"] + times["indices_s"]
    return times


# What a logged statement of the ingest job belongs to, by its first words.
PHASES = (
    ("copy", re.compile(r"COPY observation ")),
    ("key", re.compile(r"ALTER TABLE observation ADD CONSTRAINT")),
    ("indices", re.compile(r".*(index_figures|weather_indices|index_year)", re.S)),
    ("statistics", re.compile(r".*(month_sums|year_figures|month_figures|weather_stats|"
                              r"monthly_stats|INSERT INTO station AS s|UPDATE station s)", re.S)),
)  # fmt: skip
# A statement's line; the extended protocol logs its parse, bind and execute apart.
LOGGED = re.compile(
    r"duration: ([\d.]+) ms\s+(?:statement|parse|bind|execute)[^:]*: "
    r"(.*?)(?=\n\d{4}-\d\d-\d\d |\Z)",
    re.S,
)


def phases(log: str) -> dict[str, float]:
    """Seconds per phase of the statements in a server log excerpt."""
    spent = {name: 0.0 for name, _ in PHASES} | {"other": 0.0}
    for found in LOGGED.finditer(log):
        name = next((n for n, p in PHASES if p.match(found.group(2).lstrip())), "other")
        spent[name] += float(found.group(1)) / 1000
    return spent


@contextmanager
def database(url: str | None) -> Iterator[tuple[str, Path | None]]:
    """A fresh migrated database and, on a server of our own, its log (every statement timed)."""
    if url is not None:
        from bench.ingest import database as on_server

        with on_server(url) as target:
            yield target, None
        return
    with throwaway_postgres("bench-indices-pg-") as (_, server):
        target = server.url("postgres")
        with psycopg.connect(target, autocommit=True) as conn:
            migrate.migrate(conn)
            conn.execute("ALTER SYSTEM SET log_min_duration_statement = 0")
            conn.execute("SELECT pg_reload_conf()")
        yield target, server.log_file


def rewritten_since(url: str, since: datetime) -> tuple[int, int]:
    """Station-years whose indices were written after ``since``, and all of them."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE computed_at > %s), count(*) FROM weather_indices",
            (since,),
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _fresh(target: str, log: Path | None, wx: Path, yld: Path) -> dict[str, float]:
    start = log.stat().st_size if log else 0
    fresh = run_ingest(target, wx, yld)
    line = f"  ours: {fresh['run_s']:.2f} s"
    if log is not None:
        with log.open() as text:
            text.seek(start)
            spent = phases(text.read())
        between = fresh["run_s"] - sum(spent.values())
        line += (
            f" = COPY (waits on the parsing) {spent['copy']:.2f} + key {spent['key']:.2f}"
            f" + statistics {spent['statistics']:.2f} + indices {spent['indices']:.2f}"
            f" + other statements {spent['other']:.2f} + between statements {between:.2f}"
        )
    print(f"{line}; {load_line()}", flush=True)
    return fresh


def one_round(data: Path, url: str | None) -> dict[str, float]:
    """Fresh load, floor, one changed file: print each figure with the load; return them."""
    work = Path(tempfile.mkdtemp(prefix="bench-indices-"))
    try:
        wx, yld = work / "wx_data", work / "yld_data"
        shutil.copytree(data / "wx_data", wx)
        shutil.copytree(data / "yld_data", yld)
        with database(url) as (target, log):
            fresh = _fresh(target, log, wx, yld)
            with psycopg.connect(target) as conn:
                before = conn.execute("SELECT now()").fetchone()
            assert before is not None
            change_values(sorted(wx.iterdir())[0])
            one = run_ingest(target, wx, yld)
            changed, total = rewritten_since(target, before[0])
            print(
                f"  1 changed station file: run {one['run_s']:.3f} s, indices of {changed} "
                f"station-year(s) rewritten of {total}; {load_line()}"
            )
            bare = floor(target, wx)
        print(
            f"  floor: {bare['total_s']:.2f} s = COPY {bare['copy_s']:.2f} + key "
            f"{bare['key_s']:.2f} + statistics {bare['statistics_s']:.2f} + indices "
            f"{bare['indices_s']:.2f}; {load_line()}"
        )
        print(
            f"  ours / floor with indices: {fresh['run_s'] / bare['total_s']:.2f}; "
            f"ours / today's floor (no indices): {fresh['run_s'] / bare['today_s']:.2f}",
            flush=True,
        )
        return {"ours_s": fresh["run_s"], **bare}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--data", type=Path, default=None, help="default: the data set in data/")
    args = parser.parse_args()
    data = args.data or real_data()
    rounds = []
    for n in range(1, max(1, min(args.repeat, 20)) + 1):
        print(f"round {n}: {load_line()}", flush=True)
        rounds.append(one_round(data, args.database_url))
    # The machine is shared: each figure's best round is the least disturbed one.
    best = {name: min(r[name] for r in rounds) for name in rounds[0]}
    ratios = sorted(r["ours_s"] / r["total_s"] for r in rounds)
    print(
        f"best of {len(rounds)}: ours {best['ours_s']:.2f} s; floor {best['total_s']:.2f} s "
        f"(today's {best['today_s']:.2f} s + indices {best['indices_s']:.2f} s); "
        f"ours / floor with indices {best['ours_s'] / best['total_s']:.2f} (best rounds), "
        f"{ratios[len(ratios) // 2]:.2f} (median of the rounds' ratios); {load_line()}"
    )


if __name__ == "__main__":
    main()
