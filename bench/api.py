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
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import psycopg
from pydantic import SecretStr

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from command.postgres_server import EmbeddedPostgres, free_port  # noqa: E402
from ingest_job.run import ingest  # noqa: E402
from service.pagination import Cursors, scope_of  # noqa: E402
from tests.harness.data import real_data  # noqa: E402
from warehouse import migrate  # noqa: E402
from warehouse.settings import Settings  # noqa: E402

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
    wrk = shutil.which("wrk")
    if wrk is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")
    base = Path(tempfile.mkdtemp(prefix="wh-bench-api-"))
    base.chmod(0o755)
    server = EmbeddedPostgres(data_dir=base / "pgdata", fast=True)
    server.start()
    try:
        url = server.url()
        _load(url, data)
        with contextlib.ExitStack() as stack:
            api, process = stack.enter_context(_serving(url, REPO))
            uncached = stack.enter_context(_serving(url, REPO, {"RESPONSE_CACHE_MAX_BYTES": "0"}))
            baseline = None
            if args.baseline is not None:
                baseline = stack.enter_context(_serving(url, args.baseline.resolve()))
            servers = {"this code": (api, process), "cache off": uncached}
            if baseline is not None:
                servers["baseline"] = baseline
            _bench_pages(wrk, url, args.duration, args.connections, servers)
            for export in EXPORTS:
                _bench_export(api, process, export)
            if baseline is not None:
                # CSV again, alternating with the baseline's: the same moment's load.
                for _ in range(2):
                    _bench_export(api, process, EXPORTS[0])
                    _bench_export(*baseline, Export("CSV, baseline", "format=csv", False, 1))
        print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        server.stop(mode="immediate")
        shutil.rmtree(base, ignore_errors=True)
    return 0


def _load(url: str, data: Path) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        migrate.migrate(conn)
    settings = Settings(database_url=SecretStr(url), log_format="text", log_level="WARNING")
    started = time.perf_counter()
    report = ingest(settings, [str(data / "wx_data"), str(data / "yld_data")])
    seconds = time.perf_counter() - started
    print(f"loaded {report.rows_inserted:,} rows through the ingest job in {seconds:.1f} s")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


class _serving:
    """``weather-warehouse serve`` of ``code`` on a free port, stopped with SIGTERM afterwards."""

    def __init__(self, url: str, code: Path, env: dict[str, str] | None = None) -> None:
        self.url = url
        self.code = code
        self.env = env or {}
        self.port = free_port()

    def __enter__(self) -> tuple[str, psutil.Process]:
        env = {
            **os.environ,
            "DATABASE_URL": self.url,
            "CURSOR_SECRET": SECRET,
            "LOG_FORMAT": "json",
            # The checkout's own packages win over the editable install.
            "PYTHONPATH": str(self.code),
            **self.env,
        }
        self.process = subprocess.Popen(
            [str(REPO / ".venv" / "bin" / "weather-warehouse"), "serve", "--port", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stderr is not None
        for line in self.process.stderr:
            if "Uvicorn running on" in line:
                break
        else:
            raise RuntimeError("the API did not start")
        threading.Thread(target=self.process.stderr.read, daemon=True).start()
        return f"http://127.0.0.1:{self.port}", psutil.Process(self.process.pid)

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


@dataclass(frozen=True)
class Target:
    """One URL under load, served by one server process, with extra request headers."""

    url: str
    server: psutil.Process
    headers: tuple[str, ...] = ()


def _wrk(wrk: str, target: Target, duration: int, connections: int) -> dict[str, float]:
    server = target.server
    cpu_before = sum(server.cpu_times()[:2])
    headers = [arg for header in target.headers for arg in ("-H", header)]
    out = subprocess.run(
        [wrk, "-t2", f"-c{connections}", f"-d{duration}s", "--latency", *headers, target.url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cpu = sum(server.cpu_times()[:2]) - cpu_before
    requests = float(re.search(r"(\d+) requests in", out)[1])  # type: ignore[index]
    figures = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])}  # type: ignore[index]
    # Server CPU per request: what one dedicated core could serve, whatever
    # else the machine is running.
    figures["cpu_ms"] = cpu * 1000 / requests
    for pct in ("50", "99"):
        value, unit = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)\b", out).groups()  # type: ignore[union-attr]
        figures[f"p{pct}"] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    figures["non_2xx"] = float(errors[1]) if errors else 0.0
    return figures


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
    servers: dict[str, tuple[str, psutil.Process]],
) -> None:
    api, server = servers["this code"]
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
        base_api, base_server = servers["baseline"]
        targets["  the same, baseline checkout"] = Target(base_api + first, base_server)
    off_api, off_server = servers["cache off"]
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
        _wrk(wrk, target, 2, connections)
    rounds: dict[str, list[dict[str, float]]] = {label: [] for label in targets}
    for _ in range(ROUNDS):
        for label, target in targets.items():
            rounds[label].append(_wrk(wrk, target, duration, connections))
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


def _bench_export(api: str, process: psutil.Process, export: Export) -> None:
    baseline = process.memory_info().rss
    peak = baseline
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.05):
            peak = max(peak, process.memory_info().rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    rows = -export.header_lines
    wire = 0
    coding = "gzip" if export.gzip else "identity"
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    started = time.perf_counter()
    with httpx.stream(
        "GET",
        f"{api}/api/weather?{export.query}",
        headers={"Accept-Encoding": coding},
        timeout=300,
    ) as response:
        response.raise_for_status()
        assert response.headers.get("content-encoding", "identity") == coding
        for chunk in response.iter_raw():
            wire += len(chunk)
            rows += (inflate.decompress(chunk) if export.gzip else chunk).count(b"\n")
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    print(
        f"{export.label + ' export of the whole table:':<36} {rows:,} rows,"
        f" {wire / 1e6:6.1f} MB on the wire in {seconds:5.2f} s = {rows / seconds:>9,.0f} rows/s;"
        f" server RSS {baseline / 2**20:.0f} MB -> peak {peak / 2**20:.0f} MB"
        f" (+{(peak - baseline) / 2**20:.1f} MB)"
    )


if __name__ == "__main__":
    sys.exit(main())
