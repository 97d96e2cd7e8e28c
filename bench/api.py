"""API benchmark: the full real data set, the server in its own process, load from wrk.

Prints figures; asserts nothing (speed is measured, not asserted).

    .venv/bin/python bench/api.py [--data DIR] [--duration 8] [--connections 32]
        [--baseline ../main]

1. Starts a throwaway PostgreSQL, loads ``wx_data`` and ``yld_data`` through the
   ingest job (as production does).
2. Starts ``weather-warehouse serve`` (one worker) in a separate process, and
   one more with the response cache off (what a page not rendered before
   costs); with
   ``--baseline DIR`` also the code of that checkout (e.g. ``git worktree add
   ../base main``), over the same database, so both are measured in one run.
3. ``wrk`` at N connections, rounds interleaved (the machine is shared): the
   first page of 100 rows (identity, cache off, gzip, and the baseline's), one
   station's first page, and a page whose cursor sits at 90 % of the table.
4. Streams the whole observations table as CSV (identity and gzip: rows/s and
   bytes on the wire) and as NDJSON, sampling the server's RSS.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.measure import PeakRss, Target, find_wrk, print_machine, run_wrk  # noqa: E402
from bench.servers import Api, load, serving, throwaway_postgres  # noqa: E402
from service.lists.pagination import Cursors, scope_of  # noqa: E402
from tests.harness.data import real_data  # noqa: E402

SECRET = "bench-cursor-secret"
ROUNDS = 3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=None, help="default: the data set in data/ (unpacked)"
    )
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--baseline", type=Path, help="a checkout to measure alongside")
    args = parser.parse_args()
    data = args.data or real_data()
    wrk = find_wrk()
    if wrk is None:
        return 2
    print_machine()
    with throwaway_postgres("wh-bench-api-") as (_, server):
        url = server.url()
        loaded = load(url, [data / "wx_data", data / "yld_data"])
        print(f"loaded {loaded.rows:,} rows through the ingest job in {loaded.seconds:.1f} s")
        with contextlib.ExitStack() as stack:
            api = stack.enter_context(_serving(url, REPO))
            uncached = stack.enter_context(_serving(url, REPO, {"RESPONSE_CACHE_MAX_BYTES": "0"}))
            servers = {"this code": api, "cache off": uncached}
            if args.baseline is not None:
                servers["baseline"] = stack.enter_context(_serving(url, args.baseline.resolve()))
            _bench_pages(wrk, url, args.duration, args.connections, servers)
            for export in EXPORTS:
                _bench_export(api, export)
            if "baseline" in servers:
                # CSV again, alternating with the baseline's: the same moment's load.
                for _ in range(2):
                    _bench_export(api, EXPORTS[0])
                    _bench_export(
                        servers["baseline"], Export("CSV, baseline", "format=csv", False, 1)
                    )
        print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


def _serving(
    url: str, code: Path, env: dict[str, str] | None = None
) -> contextlib.AbstractContextManager[Api]:
    """The API of the checkout ``code`` (its packages win over the editable install)."""
    return serving(url, {"CURSOR_SECRET": SECRET, "PYTHONPATH": str(code), **(env or {})})


def _line(label: str, f: dict[str, float]) -> str:
    return (
        f"{label:<52} {f['rps']:>8,.0f} req/s   p50 {f['p50']:6.2f} ms   p99 {f['p99']:6.2f} ms"
        f"   server CPU {f['cpu_ms']:.3f} ms/req (= {1000 / f['cpu_ms']:,.0f} req/s per core)"
        f"   non-2xx {f['non_2xx']:.0f}"
    )


def _bench_pages(
    wrk: str,
    url: str,
    duration: int,
    connections: int,
    servers: dict[str, Api],
) -> None:
    api, server = servers["this code"].url, servers["this code"].process
    with psycopg.connect(url) as conn:
        station = conn.execute(
            "SELECT station_id FROM station ORDER BY observation_count DESC LIMIT 1"
        ).fetchone()[0]  # type: ignore[index]
        (total,) = conn.execute("SELECT count(*) FROM observation").fetchone()  # type: ignore[misc]
        deep_key = conn.execute(
            "SELECT station_id, obs_date FROM observation ORDER BY station_id, obs_date"
            " OFFSET %s LIMIT 1",
            (int(total * 0.9),),
        ).fetchone()
    assert deep_key is not None
    # The cursor the API itself would hand out after the row at 90 %.
    cursor = Cursors(SECRET.encode()).encode(scope_of("weather", [], None, None), deep_key)
    httpx.get(f"{api}/api/weather?limit=100&cursor={cursor}").raise_for_status()
    print(
        f"wrk: {connections} connections, {duration} s a run, {ROUNDS} rounds, one API worker;"
        " the machine is shared, so each line is the best round and the rounds interleave"
    )
    first = "/api/weather?limit=100"
    targets = {"GET /api/weather?limit=100 (first page)": Target(api + first, server)}
    if "baseline" in servers:
        base_api, base_server = servers["baseline"].url, servers["baseline"].process
        targets["  the same, baseline checkout"] = Target(base_api + first, base_server)
    off_api, off_server = servers["cache off"].url, servers["cache off"].process
    targets["  the same, response cache off"] = Target(off_api + first, off_server)
    targets["  the same, Accept-Encoding: gzip"] = Target(
        api + first, server, ("Accept-Encoding: gzip",)
    )
    targets[f"GET /api/weather?station_id={station}&limit=100"] = Target(
        f"{api}/api/weather?station_id={station}&limit=100", server
    )
    targets[f"GET /api/weather?limit=100 (cursor at 90 %, row {int(total * 0.9):,})"] = Target(
        f"{api}/api/weather?limit=100&cursor={cursor}", server
    )
    for target in targets.values():  # warm up: pool filled, statements prepared
        run_wrk(wrk, target, 2, connections)
    rounds: dict[str, list[dict[str, float]]] = {label: [] for label in targets}
    for _ in range(ROUNDS):
        for label, target in targets.items():
            rounds[label].append(run_wrk(wrk, target, duration, connections))
    for label, runs in rounds.items():
        print(_line(label, max(runs, key=lambda f: f["rps"])))
        print(f"{'':<52} all rounds: " + ", ".join(f"{f['rps']:,.0f}" for f in runs))
    if "baseline" in servers:
        new, old = (statistics.median(f["rps"] for f in runs) for runs in list(rounds.values())[:2])
        print(f"first page, this code / baseline (medians of the rounds): {new / old:.2f}x req/s")


@dataclass(frozen=True)
class Export:
    """One whole-table export: how it is asked for and how its rows are counted."""

    label: str
    query: str
    gzip: bool
    header_lines: int


EXPORTS = (
    Export("CSV", "format=csv", gzip=False, header_lines=1),
    Export("CSV, gzip", "format=csv", gzip=True, header_lines=1),
    Export("NDJSON", "format=ndjson", gzip=False, header_lines=0),
    Export("NDJSON, gzip", "format=ndjson", gzip=True, header_lines=0),
)


def _bench_export(api: Api, export: Export) -> None:
    rows = -export.header_lines
    wire = 0
    coding = "gzip" if export.gzip else "identity"
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    with PeakRss(api.process) as memory:
        started = time.perf_counter()
        with httpx.stream(
            "GET",
            f"{api.url}/api/weather?{export.query}",
            headers={"Accept-Encoding": coding},
            timeout=300,
        ) as response:
            response.raise_for_status()
            assert response.headers.get("content-encoding", "identity") == coding
            for chunk in response.iter_raw():
                wire += len(chunk)
                rows += (inflate.decompress(chunk) if export.gzip else chunk).count(b"\n")
        seconds = time.perf_counter() - started
    baseline, peak = memory.before, memory.peak
    print(
        f"{export.label + ' export of the whole table:':<36} {rows:,} rows,"
        f" {wire / 1e6:6.1f} MB on the wire in {seconds:5.2f} s = {rows / seconds:>9,.0f} rows/s;"
        f" server RSS {baseline / 2**20:.0f} MB -> peak {peak / 2**20:.0f} MB"
        f" (+{(peak - baseline) / 2**20:.1f} MB)"
    )


if __name__ == "__main__":
    sys.exit(main())
