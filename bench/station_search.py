"""Station search benchmark: a generated GHCN-sized inventory (120k stations), the API's queries.

Prints figures; asserts nothing (speed is measured, not asserted).

    .venv/bin/python bench/station_search.py [--stations 120000] [--queries 200]

1. Starts a throwaway PostgreSQL and loads a generated ``ghcnd-stations.txt``
   (half the stations in the continental US, as dense as GHCN-Daily there,
   half uniform on the globe) through the ingest job, as production does.
2. Times the queries the API runs (``service.endpoints.station_search``, over one
   connection, no HTTP): nearest 10 and 100 to random points, id prefix,
   name words, a bounding box; p50/p99/max in ms.
3. Shows the plan of a nearest query, drops the search indexes of migration
   0003 and times the same queries again, to show what the indexes buy.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import psycopg

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.measure import print_machine  # noqa: E402
from bench.servers import load, throwaway_postgres  # noqa: E402
from service import queries  # noqa: E402
from service.endpoints import station_search  # noqa: E402
from service.endpoints.geo import circle_boxes  # noqa: E402
from service.params import NearestQuery, StationSearchQuery  # noqa: E402
from tests.api.stations_inventory import US_BOX, random_stations, write_inventory  # noqa: E402

INDEXES = ("station_id_prefix_idx", "station_name_words_idx", "station_position_idx")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=120_000)
    parser.add_argument("--queries", type=int, default=200, help="timed queries per kind")
    args = parser.parse_args()
    print_machine()
    with throwaway_postgres("wh-bench-stations-") as (base, server):
        url = server.url()
        write_inventory(base / "data", random_stations(args.stations, seed=1, us_share=0.5))
        loaded = load(url, [base / "data"])
        print(f"loaded {loaded.rows:,} stations through the ingest job in {loaded.seconds:.1f} s")
        asyncio.run(_bench(url, args.queries, "with the indexes of migration 0003"))
        _explain(url)
        with psycopg.connect(url, autocommit=True) as conn:
            for index in INDEXES:
                conn.execute(f"DROP INDEX {index}")
            conn.execute("ANALYZE station")
        asyncio.run(_bench(url, max(10, args.queries // 10), "without them"))
    return 0


async def _bench(url: str, count: int, label: str) -> None:
    print(f"\n{label}: {count} queries each, one connection, ms")
    rng = random.Random(7)
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:

        def us_point() -> NearestQuery:
            lat, lon = rng.uniform(US_BOX[1], US_BOX[3]), rng.uniform(US_BOX[0], US_BOX[2])
            return NearestQuery(lat=lat, lon=lon)

        def any_point() -> NearestQuery:
            return NearestQuery(lat=rng.uniform(-80, 80), lon=rng.uniform(-180, 180))

        async def nearest(point: Callable[[], NearestQuery], limit: int) -> int:
            return len(await station_search._nearest(conn, point(), None, limit))

        async def search(query: Callable[[], StationSearchQuery]) -> int:
            return len(await station_search._search(conn, query(), None, 100))

        def box() -> StationSearchQuery:
            lon, lat = rng.uniform(-120, -75), rng.uniform(28, 44)
            return StationSearchQuery(bbox=f"{lon:.3f},{lat:.3f},{lon + 2:.3f},{lat + 2:.3f}")

        kinds: list[tuple[str, Callable[[], Awaitable[int]]]] = [
            ("nearest 10, US point", lambda: nearest(us_point, 10)),
            ("nearest 100, US point", lambda: nearest(us_point, 100)),
            ("nearest 10, any point", lambda: nearest(any_point, 10)),
            ("id prefix (100 rows)", lambda: search(
                lambda: StationSearchQuery(q=f"XXR{rng.randrange(1, 120_000):08d}"[:9]))),
            ("name words (100 rows)", lambda: search(
                lambda: StationSearchQuery(q=f"lake river {rng.randrange(1, 9)}"))),
            ("bbox 2x2 deg (100 rows)", lambda: search(box)),
        ]  # fmt: skip
        for name, run in kinds:
            await run()  # warm: plan cache, buffers
            timings, rows = [], 0
            for _ in range(count):
                started = time.perf_counter()
                rows += await run()
                timings.append((time.perf_counter() - started) * 1000)
            timings.sort()
            p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
            print(
                f"  {name:26} p50 {statistics.median(timings):7.2f}  p99 {p99:7.2f}"
                f"  max {timings[-1]:7.2f}  rows/query {rows / count:.0f}"
            )


def _explain(url: str) -> None:
    lat, lon, radius = 40.0, -100.0, station_search.FIRST_RADIUS_KM
    ((minx, miny, maxx, maxy),) = circle_boxes(lat, lon, radius)
    statement = queries._statement(queries._NEAR, (queries._in_boxes([(0, 0, 0, 0)])[0],),
                                   queries._NEAR_ORDER)  # fmt: skip
    params: list[Any] = [lat, lat, lon, minx, miny, maxx, maxy, radius, 10]
    with psycopg.connect(url) as conn:
        plan = conn.execute(b"EXPLAIN (ANALYZE, COSTS OFF) " + statement, params).fetchall()
    print("\nplan of one nearest round (25 km around 40N 100W):")
    for (line,) in plan:
        print(f"  {line}")


if __name__ == "__main__":
    sys.exit(main())
