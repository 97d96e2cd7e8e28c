"""Should ``observation`` be partitioned? Plain table against hash partitions by station.

    .venv/bin/python bench/partitioning.py [--rows 20000000] [--partitions 16]

Builds the same rows (generated in SQL: stations x days, values from a hash)
in a plain table and in a table hash-partitioned by ``station_id``, both
with the primary key (station_id, obs_date), on a throwaway server (fsync
off, as the tests), and times what the warehouse does with them: the first
load (COPY-equivalent INSERT ... SELECT into the bare table, then the key),
a file's merge (10,000 rows of one station: insert-or-update through
staging, as ``ingest_job.load`` does), VACUUM after 1 % of the rows changed,
and the API's typical queries (a page of one station's days; one day across
all stations). Prints one line per measurement and variant.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.servers import throwaway_postgres  # noqa: E402

DAYS = 9131  # 25 years

COLUMNS = """station_id text NOT NULL, obs_date date NOT NULL, tmax_tenths_c smallint,
             tmin_tenths_c smallint, prcp_tenths_mm integer"""
ROWS = """
SELECT 'USZ' || lpad(s::text, 8, '0'), date '1990-01-01' + d,
       (hashint4(s * 40503 + d) %% 300)::smallint, (hashint4(s * 7919 + d) %% 200)::smallint,
       abs(hashint4(s + d * 31) %% 500)
FROM generate_series(0, %(stations)s - 1) s, generate_series(0, %(days)s - 1) d
"""
MERGE = """
INSERT INTO {table} AS o SELECT * FROM stage
ON CONFLICT (station_id, obs_date) DO UPDATE SET tmax_tenths_c = excluded.tmax_tenths_c
WHERE o.tmax_tenths_c IS DISTINCT FROM excluded.tmax_tenths_c
"""


Connection = psycopg.Connection[tuple[object, ...]]


def run(conn: Connection, statement: str, params: Any = None) -> psycopg.Cursor[tuple[object, ...]]:
    """Execute a statement built here (table names are this script's own, never input)."""
    return conn.execute(statement, params)


def timed(conn: Connection, statement: str, params: Any = None) -> float:
    started = time.perf_counter()
    run(conn, statement, params)
    return time.perf_counter() - started


def create(conn: Connection, table: str, partitions: int) -> None:
    if partitions == 0:
        run(conn, f"CREATE TABLE {table} ({COLUMNS})")
        return
    run(conn, f"CREATE TABLE {table} ({COLUMNS}) PARTITION BY HASH (station_id)")
    for index in range(partitions):
        run(
            conn,
            f"CREATE TABLE {table}_{index} PARTITION OF {table} "
            f"FOR VALUES WITH (MODULUS {partitions}, REMAINDER {index})",
        )


def measure(url: str, rows: int, partitions: int) -> dict[str, float]:
    table = "obs_part" if partitions else "obs_plain"
    stations = rows // DAYS + 1
    out: dict[str, float] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '256MB'")
        create(conn, table, partitions)
        out["load_s"] = timed(
            conn, f"INSERT INTO {table} {ROWS}", {"stations": stations, "days": DAYS}
        )
        out["key_s"] = timed(conn, f"ALTER TABLE {table} ADD PRIMARY KEY (station_id, obs_date)")
        run(conn, f"ANALYZE {table}")
        run(conn, f"CREATE TEMP TABLE stage AS SELECT * FROM {table} WHERE false")
        merges = []
        for station in range(5):  # a changed file: one station, every value of 10,000 days
            conn.execute("TRUNCATE stage")
            run(
                conn,
                f"INSERT INTO stage SELECT station_id, obs_date, tmax_tenths_c + 1, tmin_tenths_c, "
                f"prcp_tenths_mm FROM {table} WHERE station_id = %s",
                (f"USZ{station * 97:08d}",),
            )
            merges.append(timed(conn, MERGE.format(table=table)))
        out["merge_s"] = sorted(merges)[2]
        changed = ("UPDATE {} SET prcp_tenths_mm = prcp_tenths_mm + 1 WHERE hashint4("
                   "length(station_id) + extract(doy FROM obs_date)::int) % 100 = 0")  # fmt: skip
        run(conn, changed.format(table))
        out["vacuum_s"] = timed(conn, f"VACUUM {table}")
        page = (f"SELECT * FROM {table} WHERE station_id = %s AND obs_date >= %s "
                "ORDER BY station_id, obs_date LIMIT 100")  # fmt: skip
        pages = [
            timed(conn, page, (f"USZ{s * 31 % stations:08d}", "2000-01-01")) for s in range(200)
        ]
        out["page_ms"] = sorted(pages)[100] * 1000
        out["day_s"] = timed(
            conn, f"SELECT count(*), avg(tmax_tenths_c) FROM {table} WHERE obs_date = '2000-06-01'"
        )
        row = run(conn, f"SELECT pg_total_relation_size('{table}')" if not partitions else
                           f"SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits "
                           f"WHERE inhparent = '{table}'::regclass").fetchone()  # fmt: skip
        out["size_gb"] = float(str(row[0] if row else 0)) / 1e9
        run(conn, f"DROP TABLE {table}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--partitions", type=int, default=16)
    args = parser.parse_args()
    with throwaway_postgres("bench-part-") as (_, server):
        url = server.url("postgres")
        for partitions in (0, args.partitions):
            name = f"hash-partitioned x{partitions}" if partitions else "plain"
            r = measure(url, args.rows, partitions)
            print(f"{name:>24}: load {r['load_s']:6.1f} s + key {r['key_s']:5.1f} s, "
                  f"merge of a 9,131-row file {r['merge_s'] * 1000:6.1f} ms, "
                  f"VACUUM after 1 % updated {r['vacuum_s']:5.1f} s, "
                  f"page of one station {r['page_ms']:5.2f} ms (median), "
                  f"one day across stations {r['day_s']:5.2f} s, size {r['size_gb']:.2f} GB",
                  flush=True)  # fmt: skip
        load = ", ".join(f"{figure:.1f}" for figure in os.getloadavg())
        print(f"{args.rows:,} rows; machine: {os.cpu_count()} CPUs, load average {load}")


if __name__ == "__main__":
    main()
