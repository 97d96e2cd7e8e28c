"""Concurrent CSV exports: the API's memory with many slow or stalled readers.

Prints figures; asserts nothing (memory is measured, not asserted).

    .venv/bin/python bench/exports.py [--data DIR] [--exports 50]
        [--full-readers 5] [--hang-ups 5] [--stall-seconds 10] [--limit 50]

1. Starts a throwaway PostgreSQL and loads ``wx_data`` (1.7 M rows) through
   the ingest job.
2. Starts ``weather-warehouse serve`` (one worker) with ``EXPORT_MAX_CONCURRENT``
   set to ``--limit`` (50 by default, so that every export runs: the point is
   the memory of one export times fifty, not the limit's refusals).
3. Opens ``--exports`` connections on loopback, each asking for the whole table
   as CSV at once: a few read it all, a few hang up after the first 64 KiB, the
   rest read the response head and then stall (read nothing more).
4. Samples the server's RSS every 50 ms: before, the peak while the exports
   run, and after every connection has gone and the server has no request in
   flight. Bounded: the full readers get 300 s, the stall lasts
   ``--stall-seconds``, the drain 60 s.
5. Then the same burst against a server with the default limit: most exports
   are refused at once (503), the others run.
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.measure import MiB, PeakRss, print_machine  # noqa: E402
from bench.servers import Api, load, serving, throwaway_postgres  # noqa: E402
from tests.harness.data import real_data  # noqa: E402

PATH = "/api/weather?format=csv"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=None, help="default: the data set in data/ (unpacked)"
    )
    parser.add_argument("--exports", type=int, default=50)
    parser.add_argument("--full-readers", type=int, default=5)
    parser.add_argument("--hang-ups", type=int, default=5)
    parser.add_argument("--stall-seconds", type=float, default=10.0)
    parser.add_argument("--limit", type=int, default=50, help="EXPORT_MAX_CONCURRENT")
    parser.add_argument("--rounds", type=int, default=1, help="bursts against the first server")
    args = parser.parse_args()
    print_machine()
    with throwaway_postgres("wh-bench-exports-") as (_, server):
        url = server.url()
        loaded = load(url, [(args.data or real_data()) / "wx_data"])
        print(f"loaded {loaded.rows:,} rows through the ingest job in {loaded.seconds:.1f} s")
        with serving(url, {"EXPORT_MAX_CONCURRENT": str(args.limit)}) as api:
            for round_ in range(1, args.rounds + 1):
                _burst(api, args, f"limit {args.limit}, round {round_}")
        with serving(url) as api:
            _burst(api, args, "the default limit")
    return 0


def _in_flight(api: Api) -> float:
    """Requests in flight besides the one asking (the metrics gauge)."""
    text = httpx.get(f"{api.url}/metrics", timeout=10).text
    for line in text.splitlines():
        if line.startswith("weather_warehouse_http_requests_in_flight "):
            return float(line.split()[1]) - 1
    raise RuntimeError("no in-flight gauge in /metrics")


def _open(api: Api) -> tuple[socket.socket, int, bytes]:
    """A connection that asked for the export; its status and what came with the head."""
    sock = socket.create_connection(("127.0.0.1", api.port), timeout=60)
    sock.sendall(f"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    received = b""
    while b"\r\n\r\n" not in received:
        data = sock.recv(4096)
        if not data:
            break
        received += data
    status = int(received.split(b" ", 2)[1]) if received.startswith(b"HTTP/1.1 ") else 0
    return sock, status, received


class Burst:
    """Many exports at once against one server, each in a thread of its own."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.statuses: Counter[int] = Counter()
        self.stalled: list[socket.socket] = []
        self.full_rows: list[int] = []
        self.lock = threading.Lock()

    def export(self, kind: str) -> None:
        """One export: ``full`` reads it all, ``hang-up`` 64 KiB, ``stall`` only the head."""
        if kind == "full":
            self._read_all()
            return
        sock, status, head = _open(self.api)
        with self.lock:
            self.statuses[status] += 1
        if kind == "stall" and status == 200:
            with self.lock:
                self.stalled.append(sock)
            return
        size = len(head)
        while size < 64 * 1024:
            data = sock.recv(1 << 16)
            if not data:
                break
            size += len(data)
        sock.close()

    def _read_all(self) -> None:
        # Through httpx, which checks the chunked framing: a cut stream is an error.
        lines, code = 0, 0
        try:
            with httpx.stream("GET", f"{self.api.url}{PATH}", timeout=300) as response:
                code = response.status_code
                lines = sum(chunk.count(b"\n") for chunk in response.iter_bytes())
        except httpx.HTTPError:
            lines = 0
        with self.lock:
            self.statuses[code] += 1
            if code == 200:
                self.full_rows.append(lines - 1)


def _burst(api: Api, args: argparse.Namespace, limit: str) -> None:
    with PeakRss(api.process) as memory:
        burst = Burst(api)
        kinds = ["full"] * args.full_readers + ["hang-up"] * args.hang_ups
        kinds += ["stall"] * (args.exports - len(kinds))
        started = time.monotonic()
        threads = [
            threading.Thread(target=burst.export, args=(kind,), daemon=True) for kind in kinds
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        remaining = args.stall_seconds - (time.monotonic() - started)
        if remaining > 0:
            time.sleep(remaining)  # the stalled readers stay stalled this long at least
        during = memory.peak
        for sock in burst.stalled:
            sock.close()
        deadline = time.monotonic() + 60
        while _in_flight(api) > 0 and time.monotonic() < deadline:
            time.sleep(0.1)
    before = memory.before
    after = api.rss()
    print(
        f"{args.exports} concurrent CSV exports of the whole table ({limit}): "
        f"{args.full_readers} to read it all, {args.hang_ups} to hang up after 64 KiB, the rest "
        f"to stall for {args.stall_seconds:g} s; statuses {dict(burst.statuses)}, "
        f"{len(burst.stalled)} stalled"
    )
    rows = ", ".join(f"{n:,}" for n in burst.full_rows) or "none (refused)"
    print(f"  rows the full readers got: {rows}")
    print(
        f"  server RSS: before {before / MiB:.0f} MiB, peak {during / MiB:.0f} MiB "
        f"(+{(during - before) / MiB:.0f} MiB, {(during - before) / MiB / args.exports:.1f} MiB "
        f"per export asked), after all ended {after / MiB:.0f} MiB "
        f"(+{(after - before) / MiB:.0f} MiB)"
    )


if __name__ == "__main__":
    sys.exit(main())
