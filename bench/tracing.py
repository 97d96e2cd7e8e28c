"""Tracing cost benchmark: the API's req/s and p99 with tracing off and on, by sampler.

Prints figures; asserts nothing (speed is measured, not asserted).

    .venv/bin/python bench/tracing.py [--data DIR] [--stations 20]
        [--duration 4] [--connections 16] [--rounds 5]

1. Starts a throwaway PostgreSQL and loads ``--stations`` station files through the
   ingest job.
2. Starts the real collector (scripts/otelcol/build.py) on the chart's traces
   pipeline, the X-Ray exporter swapped for a file exporter as in the tests.
3. Starts ten ``weather-warehouse serve`` processes (one worker each) on the
   same database: tracing off; on with the default sampler (at most one new
   trace a second, no ratio); on sampling nothing new (the fixed cost alone);
   on with the ratio alone at 10 % and at 100 % (the sampler before the rate
   limit); each once as shipped and once with the response cache off; the
   traced ones export to that collector.
4. ``wrk`` on one station's first page of 100 rows, ``--rounds`` times: in each
   round every traced process once, each run paired with a run of tracing off
   just before or after it (alternating by round). The machine is shared, so
   a cost is the median over the rounds of each pair's difference, in req/s
   and in server CPU a request. With the cache, a repeated page is a cache hit
   (one server span, the cheapest request there is, so the worst case for the
   relative cost); without it, each request is a pool wait and SQL spans too.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.measure import Target, find_wrk, print_machine, run_wrk  # noqa: E402
from bench.servers import Api, load, serving, throwaway_postgres  # noqa: E402
from tests.harness.data import real_data  # noqa: E402
from tests.observability.collector import run as run_collector  # noqa: E402

CACHE = {"response cache on (as shipped): a cache hit": {},
         "response cache off: pool wait and SQL": {"RESPONSE_CACHE_MAX_BYTES": "0"}}  # fmt: skip
# Sampler per mode: (new traces a second, ratio of the rest); None: tracing off.
OFF = "tracing off"
MODES: dict[str, tuple[str, str] | None] = {
    OFF: None,
    "default: 1 trace/s, ratio 0": ("1", "0"),
    "nothing new sampled": ("0", "0"),
    "ratio 0.1 alone (old)": ("0", "0.1"),
    "ratio 1.0 alone (old)": ("0", "1"),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=None, help="default: the data set in data/ (unpacked)"
    )
    parser.add_argument("--stations", type=int, default=20, help="station files to load")
    parser.add_argument("--duration", type=int, default=4, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    wrk = find_wrk()
    if wrk is None:
        return 2
    print_machine()
    with throwaway_postgres("wh-bench-tracing-") as (base, server):
        url = server.url()
        station = _load(url, args.data or real_data(), args.stations)
        with ExitStack() as stack:
            traces = contextmanager(run_collector)(base / "otelcol", api=None, pushgateway=None)
            collector = stack.enter_context(traces)
            for cache, extra in CACHE.items():
                apis = {
                    label: stack.enter_context(
                        serving(url, _tracing(collector.otlp_endpoint, sampler) | extra)
                    )
                    for label, sampler in MODES.items()
                }
                print(f"\n{cache}")
                _bench(wrk, apis, station, args)
        spans = collector.traces_file.read_text().count('"spanId"')
        print(f"the collector wrote {spans:,} spans")
    # Other jobs share the machine: its load at the end, beside the one at the start.
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    return 0


def _load(url: str, data: Path, stations: int) -> str:
    """Load the first ``stations`` station files; the first station's id."""
    files = sorted((data / "wx_data").iterdir())[:stations]
    loaded = load(url, files)
    print(f"loaded {loaded.rows:,} rows of {len(files)} stations")
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT station_id FROM station ORDER BY station_id LIMIT 1").fetchone()
    assert row is not None
    return str(row[0])


def _tracing(endpoint: str, sampler: tuple[str, str] | None) -> dict[str, str]:
    """The API's environment for tracing off (``sampler`` None) or on with that sampler."""
    env = {"LOG_LEVEL": "INFO"}
    if sampler is not None:
        per_second, ratio = sampler
        env |= {"TRACING_ENABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
                "TRACING_TRACES_PER_SECOND": per_second,
                "OTEL_TRACES_SAMPLER_ARG": ratio}  # fmt: skip
    return env


def _bench(wrk: str, apis: dict[str, Api], station: str, args: argparse.Namespace) -> None:
    path = f"/api/weather?station_id={station}&limit=100"
    for api in apis.values():  # warm up: pools filled, statements prepared
        run_wrk(wrk, Target(api.url + path, api.process), 2, args.connections)
    print(
        f"wrk: GET {path}, {args.connections} connections, {args.duration} s a run,"
        f" {args.rounds} rounds, one API worker each; each traced run paired with a"
        " tracing-off run beside it; medians of the rounds, costs the medians of the pairs"
    )
    runs: dict[str, list[dict[str, float]]] = {label: [] for label in apis}
    costs: dict[str, list[tuple[float, float]]] = {label: [] for label in apis if label != OFF}
    for number in range(args.rounds):
        for label, pairs in costs.items():
            # Other jobs come and go: a traced run is compared with the off run
            # next to it, before it in one round and after it in the next.
            pair = (OFF, label) if number % 2 == 0 else (label, OFF)
            for each in pair:
                target = Target(apis[each].url + path, apis[each].process)
                runs[each].append(run_wrk(wrk, target, args.duration, args.connections))
            traced, off = runs[label][-1], runs[OFF][-1]
            pairs.append((1 - traced["rps"] / off["rps"], traced["cpu_ms"] / off["cpu_ms"] - 1))
    for label, figures in runs.items():
        rps = statistics.median(f["rps"] for f in figures)
        p99 = statistics.median(f["p99"] for f in figures)
        cpu = statistics.median(f["cpu_ms"] for f in figures)
        cost = ""
        if label in costs:
            rps_cost = statistics.median(c[0] for c in costs[label]) * 100
            cpu_cost = statistics.median(c[1] for c in costs[label]) * 100
            cost = f"  cost {rps_cost:+5.1f} % req/s, {cpu_cost:+5.1f} % CPU"
        print(
            f"{label:<28} {rps:>7,.0f} req/s  p99 {p99:6.2f} ms  server CPU {cpu:.3f} ms/req"
            f"{cost}   runs: " + ", ".join(f"{f['rps']:,.0f}" for f in figures)
        )


if __name__ == "__main__":
    sys.exit(main())
