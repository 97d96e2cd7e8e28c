"""A frozen database: how long the API takes to answer while PostgreSQL is stopped (SIGSTOP).

Prints figures; asserts nothing.

    .venv/bin/python bench/frozen_database.py [--freeze-seconds 12] [--statement-timeout-ms 3000]

1. Starts a throwaway PostgreSQL with one small station file loaded by the
   ingest job, and ``weather-warehouse serve`` with the given statement timeout.
2. Stops the postmaster and every backend (SIGSTOP) for ``--freeze-seconds``;
   meanwhile asks, one after another, a data page, a CSV export, a station and
   ``/readyz``, and 12 data pages at once, each bounded by the freeze itself.
3. Resumes them all (SIGCONT, always), then times how long until a page is a
   200 again.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.servers import Api, load, serving, throwaway_postgres  # noqa: E402
from command.postgres_server import EmbeddedPostgres  # noqa: E402

STATION = "USC00000001"
PAGE = f"/api/weather?station_id={STATION}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--freeze-seconds", type=float, default=12.0)
    parser.add_argument("--statement-timeout-ms", type=int, default=3000)
    args = parser.parse_args()
    with throwaway_postgres("wh-bench-frozen-") as (base, server):
        url = server.url()
        data = base / "data"
        data.mkdir()
        (data / f"{STATION}.txt").write_text("20200101\t  10\t  -5\t   0\n")
        load(url, [data])
        env = {"DATABASE_STATEMENT_TIMEOUT_MS": str(args.statement_timeout_ms)}
        with serving(url, env) as api:
            _measure(api, server, args.freeze_seconds, args.statement_timeout_ms)
    return 0


def _timed(api: Api, path: str, bound: float) -> str:
    started = time.perf_counter()
    try:
        status = str(httpx.get(f"{api.url}{path}", timeout=bound).status_code)
    except httpx.TimeoutException:
        status = "no answer"
    return f"{status} in {time.perf_counter() - started:.2f} s"


def _measure(api: Api, server: EmbeddedPostgres, freeze: float, timeout_ms: int) -> None:
    print(_timed(api, PAGE, 10).replace("200", "before the freeze: 200", 1))
    pid = server.pid()
    assert pid is not None
    postmaster = psutil.Process(pid)
    stopped = [postmaster]
    frozen_at = time.monotonic()
    try:
        postmaster.send_signal(signal.SIGSTOP)
        for child in postmaster.children(recursive=True):
            child.send_signal(signal.SIGSTOP)
            stopped.append(child)
        print(
            f"froze PostgreSQL ({len(stopped)} processes) for {freeze:g} s; "
            f"DATABASE_STATEMENT_TIMEOUT_MS={timeout_ms}"
        )
        for label, path in (
            ("  GET /api/weather (page)", PAGE),
            ("  GET /api/weather?format=csv", f"{PAGE}&format=csv"),
            (f"  GET /api/stations/{STATION}", f"/api/stations/{STATION}"),
            ("  GET /readyz", "/readyz"),
        ):
            print(f"{label:<36} {_timed(api, path, freeze)}")
        paths = [f"{PAGE}&limit={n}" for n in range(1, 13)]
        with ThreadPoolExecutor(len(paths)) as threads:
            answers = list(threads.map(lambda p: _timed(api, p, freeze), paths))
        print(f"  12 pages at once: {', '.join(answers)}")
        remaining = freeze - (time.monotonic() - frozen_at)
        if remaining > 0:
            time.sleep(remaining)  # a bench, not a test: the freeze lasts as long as asked
    finally:
        for process in stopped:
            os.kill(process.pid, signal.SIGCONT)
    resumed = time.perf_counter()
    while httpx.get(f"{api.url}{PAGE}", timeout=30).status_code != 200:
        if time.perf_counter() - resumed > 60:
            print("not recovered within 60 s")
            return
    print(f"resumed: the first 200 after {time.perf_counter() - resumed:.2f} s")


if __name__ == "__main__":
    sys.exit(main())
