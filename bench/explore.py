"""The /explore page in Chromium: time to the drawn view and bytes transferred, per view.

Prints figures; asserts nothing (speed is measured, not asserted).

    .venv/bin/python bench/explore.py [--rounds 5]

1. Starts a throwaway PostgreSQL and loads the shipped data set (wx_data,
   yld_data, stations) through the ingest job, as ``make run`` does.
2. Starts ``weather-warehouse serve`` (one worker) on 127.0.0.1.
3. For each round and view (map, a station's page, yield), a fresh headless
   Chromium (empty cache) opens the view and reads the page's own timings:
   first contentful paint (the browser's); ``explore-first-chart``, which the
   station page sets once its daily charts are drawn with their data (the
   first meaningful paint; the other views draw one figure, so theirs is the
   next mark); ``explore-drawn``, once every figure of the view is drawn; and
   the bytes on the wire (Resource Timing's
   ``transferSize``, gzip as the browser asks) and decoded. The same view
   opened again in that browser gives the warm figures (assets revalidated).
   The load average is printed beside every figure: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.measure import print_machine  # noqa: E402
from bench.servers import load, serving, throwaway_postgres  # noqa: E402
from tests.explore.browser import chromium, open_view  # noqa: E402
from tests.harness.data import real_data  # noqa: E402

VIEWS = {
    "map": "#/",
    "station": "#/station/USC00110072",
    "yield": "#/yield",
}
_TIMINGS = """
const nav = performance.getEntriesByType('navigation')[0];
const resources = performance.getEntriesByType('resource');
const paint = performance.getEntriesByName('first-contentful-paint')[0];
const drawn = performance.getEntriesByName('explore-drawn')[0];
const first = performance.getEntriesByName('explore-first-chart')[0];
const all = [nav, ...resources];
return {
  fcp: paint ? paint.startTime : null,
  drawn: drawn ? drawn.startTime : null,
  first: first ? first.startTime : drawn.startTime,
  requests: all.length,
  api: resources.filter(r => new URL(r.name).pathname.startsWith('/api')).length,
  wire: all.reduce((s, r) => s + r.transferSize, 0),
  decoded: all.reduce((s, r) => s + r.decodedBodySize, 0),
};
"""


def measure(url: str, view: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Cold and warm figures of one view, each in a fresh load of the page."""
    with chromium() as browser:
        open_view(browser, url + "/explore" + VIEWS[view])
        cold: dict[str, Any] = browser.execute_script(_TIMINGS)
        open_view(browser, url + "/explore" + VIEWS[view])
        warm: dict[str, Any] = browser.execute_script(_TIMINGS)
    return cold, warm


def show(view: str, kind: str, figures: dict[str, Any]) -> None:
    load1 = os.getloadavg()[0]
    print(
        f"{view:8} {kind:5} first contentful paint {figures['fcp']:6.0f} ms, "
        f"first chart {figures['first']:6.0f} ms, all drawn {figures['drawn']:6.0f} ms, "
        f"{figures['requests']:2} requests "
        f"({figures['api']} to /api), {figures['wire'] / 1024:7.1f} KiB on the wire, "
        f"{figures['decoded'] / 1024:7.1f} KiB decoded   (load {load1:.2f})",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print_machine()
    data = real_data()
    with throwaway_postgres("bench-explore-") as (_, postgres):
        url = postgres.url("postgres")
        loaded = load(url, [data / "wx_data", data / "yld_data", data / "stations"])
        print(f"loaded {loaded.rows:,} rows in {loaded.seconds:.1f} s", flush=True)
        drawn: dict[str, list[float]] = {view: [] for view in VIEWS}
        first: dict[str, list[float]] = {view: [] for view in VIEWS}
        with serving(url) as api:
            for _ in range(args.rounds):
                # Views interleaved within a round, so that a busy moment of the
                # shared machine spreads over all of them.
                for view in VIEWS:
                    cold, warm = measure(api.url, view)
                    show(view, "cold", cold)
                    show(view, "warm", warm)
                    drawn[view].append(cold["drawn"])
                    first[view].append(cold["first"])
        for view in VIEWS:
            print(
                f"{view:8} cold: first chart median {statistics.median(first[view]):.0f} ms "
                f"(max {max(first[view]):.0f}), all drawn median "
                f"{statistics.median(drawn[view]):.0f} ms (max {max(drawn[view]):.0f}) over "
                f"{len(drawn[view])} rounds (load {os.getloadavg()[0]:.2f})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
