"""Indices benchmark on the real data: the fresh load beside its floor, with and without indices.

    .venv/bin/python bench/indices.py [--repeat N] [--database-url URL]

Each round, in a fresh database: the real ingest command loads the shipped
data (statistics and indices included), then the floor runs on the same
server: COPY every row into a table without indexes, add the primary key,
the yearly and monthly GROUP BYs (today's floor), then the indices' own
statement (``ingest_job.indices.all_figures``) on that table (the floor with
indices). Then one station file changes (a value on 1 January, so one
station-year) and is merged: the benchmark counts the station-years whose
indices that run rewrote. The load average is printed with every figure:
the machine is shared.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.ingest import (  # noqa: E402
    FLOOR_STATS,
    FLOOR_TABLE,
    _payload,
    change_values,
    database,
    load_line,
    run_ingest,
)
from ingest_job import indices  # noqa: E402
from tests.harness.data import real_data  # noqa: E402

FLOOR_MONTHLY = """CREATE TABLE floor_monthly AS
SELECT station_id, extract(year FROM obs_date)::smallint AS year,
       extract(month FROM obs_date)::smallint AS month,
       round(avg(tmax_tenths_c) / 10, 6) AS avg_max, round(avg(tmin_tenths_c) / 10, 6) AS avg_min,
       round(sum(prcp_tenths_mm)::numeric / 100, 2) AS precip,
       count(tmax_tenths_c) AS max_days, count(tmin_tenths_c) AS min_days,
       count(prcp_tenths_mm) AS precip_days
FROM floor_observation GROUP BY 1, 2, 3"""


def floor(url: str, folder: Path) -> dict[str, float]:
    """COPY, primary key, yearly and monthly GROUP BYs, then the indices' statement: their times."""
    held = [_payload(path) for path in sorted(folder.iterdir())]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '256MB'")  # as the bulk load does
        conn.execute(FLOOR_TABLE)
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy("COPY floor_observation FROM STDIN") as copy:
            for payload in held:
                copy.write(payload)
        conn.execute("ALTER TABLE floor_observation ADD PRIMARY KEY (station_id, obs_date)")
        conn.execute(FLOOR_STATS)
        conn.execute(FLOOR_MONTHLY)
        today = time.perf_counter()
        with conn.transaction():
            conn.execute("SET LOCAL jit = off")  # as ingest_job.indices does
            conn.execute(indices.all_figures("floor_observation"))
        done = time.perf_counter()
        conn.execute("DROP TABLE floor_observation, floor_stats, floor_monthly")
    return {"today_s": today - started, "indices_s": done - today, "total_s": done - started}


def rewritten_since(url: str, since: datetime) -> tuple[int, int]:
    """Station-years whose indices were written after ``since``, and all of them."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE computed_at > %s), count(*) FROM weather_indices",
            (since,),
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def one_round(data: Path, url: str | None) -> None:
    """Fresh load, floor, one changed file: print each figure with the load."""
    work = Path(tempfile.mkdtemp(prefix="bench-indices-"))
    try:
        wx, yld = work / "wx_data", work / "yld_data"
        shutil.copytree(data / "wx_data", wx)
        shutil.copytree(data / "yld_data", yld)
        with database(url) as target:
            fresh = run_ingest(target, wx, yld)
            print(
                f"  fresh load (statistics and indices): run {fresh['run_s']:.2f} s; {load_line()}"
            )
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
            f"  floor: {bare['today_s']:.2f} s (COPY, key, yearly and monthly GROUP BYs) + "
            f"{bare['indices_s']:.2f} s (indices) = {bare['total_s']:.2f} s; {load_line()}"
        )
        print(
            f"  ours / floor with indices: {fresh['run_s'] / bare['total_s']:.2f}; "
            f"ours / today's floor: {fresh['run_s'] / bare['today_s']:.2f}"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--data", type=Path, default=None, help="default: the data set in data/")
    args = parser.parse_args()
    data = args.data or real_data()
    for n in range(1, max(1, min(args.repeat, 20)) + 1):
        print(f"round {n}: {load_line()}", flush=True)
        one_round(data, args.database_url)


if __name__ == "__main__":
    main()
