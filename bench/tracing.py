"""Tracing cost benchmark: the API's req/s and p99 with tracing off, at 10 % and at 100 %.

Prints figures; asserts nothing (speed is measured, not asserted).

    .venv/bin/python bench/tracing.py [--data DIR] [--stations 20]
        [--duration 6] [--connections 16] [--rounds 3]

1. Starts a throwaway PostgreSQL and loads ``--stations`` station files through the
   ingest job.
2. Starts the real collector (scripts/otelcol/build.py) on the chart's traces
   pipeline, the X-Ray exporter swapped for a file exporter as in the tests.
3. Starts three ``weather-warehouse serve`` processes (one worker each) on the
   same database: tracing off, on at 10 % sampling, on at 100 %, the last two
   exporting to that collector.
4. ``wrk`` on one station's first page of 100 rows (a pool wait and SQL spans per
   request), each process in turn, ``--rounds`` times: the machine is shared, so
   rounds interleave and each figure is the median of its rounds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psutil
import psycopg
from pydantic import SecretStr

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.api import _wrk  # noqa: E402
from command.postgres_server import EmbeddedPostgres, free_port  # noqa: E402
from ingest_job.run import ingest  # noqa: E402
from tests.harness.data import real_data  # noqa: E402
from tests.harness.process import wait_until_up  # noqa: E402
from tests.observability.collector import run as run_collector  # noqa: E402
from warehouse import migrate  # noqa: E402
from warehouse.settings import Settings  # noqa: E402

MODES = {"tracing off": None, "tracing on, 10 % sampled": "0.1", "tracing on, 100 % sampled": "1"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=None, help="default: the data set in data/ (unpacked)"
    )
    parser.add_argument("--stations", type=int, default=20, help="station files to load")
    parser.add_argument("--duration", type=int, default=6, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")
    base = Path(tempfile.mkdtemp(prefix="wh-bench-tracing-"))
    base.chmod(0o755)
    server = EmbeddedPostgres(data_dir=base / "pgdata", fast=True)
    server.start()
    try:
        url = server.url()
        station = _load(url, args.data or real_data(), args.stations)
        with ExitStack() as stack:
            traces = contextmanager(run_collector)(base / "otelcol", api=None, pushgateway=None)
            collector = stack.enter_context(traces)
            apis = {
                label: stack.enter_context(_serving(url, collector.otlp_endpoint, ratio))
                for label, ratio in MODES.items()
            }
            _bench(wrk, apis, station, args)
        spans = collector.traces_file.read_text().count('"spanId"')
        print(f"the collector wrote {spans:,} spans")
    finally:
        server.stop(mode="immediate")
        shutil.rmtree(base, ignore_errors=True)
    return 0


def _load(url: str, data: Path, stations: int) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        migrate.migrate(conn)
    files = sorted((data / "wx_data").iterdir())[:stations]
    settings = Settings(database_url=SecretStr(url), log_format="text", log_level="WARNING")
    report = ingest(settings, [str(f) for f in files])
    print(f"loaded {report.rows_inserted:,} rows of {len(files)} stations")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        row = conn.execute("SELECT station_id FROM station ORDER BY station_id LIMIT 1").fetchone()
    assert row is not None
    return str(row[0])


@contextmanager
def _serving(url: str, endpoint: str, ratio: str | None) -> Iterator[tuple[str, psutil.Process]]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}
    if ratio is not None:
        env |= {"TRACING_ENABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
                "OTEL_TRACES_SAMPLER_ARG": ratio}  # fmt: skip
    process = subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "weather-warehouse"), "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    api = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(api + "/readyz", process, "the API", timeout=60)  # type: ignore[arg-type]
        yield api, psutil.Process(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=60)


def _bench(
    wrk: str, apis: dict[str, tuple[str, psutil.Process]], station: str, args: argparse.Namespace
) -> None:
    path = f"/api/weather?station_id={station}&limit=100"
    for api, process in apis.values():  # warm up: pools filled, statements prepared
        _wrk(wrk, api + path, 2, args.connections, process)
    print(
        f"wrk: GET {path}, {args.connections} connections, {args.duration} s a run,"
        f" {args.rounds} rounds interleaved, one API worker each; medians of the rounds"
    )
    runs: dict[str, list[dict[str, float]]] = {label: [] for label in apis}
    for _ in range(args.rounds):
        for label, (api, process) in apis.items():
            runs[label].append(_wrk(wrk, api + path, args.duration, args.connections, process))
    baseline = statistics.median(f["rps"] for f in runs["tracing off"])
    for label, figures in runs.items():
        rps = statistics.median(f["rps"] for f in figures)
        p99 = statistics.median(f["p99"] for f in figures)
        cpu = statistics.median(f["cpu_ms"] for f in figures)
        cost = (1 - rps / baseline) * 100
        print(
            f"{label:<28} {rps:>7,.0f} req/s  p99 {p99:6.2f} ms  server CPU {cpu:.3f} ms/req"
            f"  cost {cost:+5.1f} % req/s   rounds: "
            + ", ".join(f"{f['rps']:,.0f}" for f in figures)
        )


if __name__ == "__main__":
    sys.exit(main())
