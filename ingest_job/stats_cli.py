"""``weather-warehouse stats --recompute``: every station-year's statistics again, no source read.

For after a manual fix in the database, or a change to how statistics are
computed. Takes the ingest lock (no run may load meanwhile), in one
transaction: readers see the old figures until the new ones are all there.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from ingest_job import load, shards, stats
from warehouse import db
from warehouse.errors import ConfigError, ExitCode
from warehouse.settings import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--recompute`` (required: the command does nothing else yet)."""
    parser.add_argument(
        "--recompute",
        action="store_true",
        help="recompute every station-year's and station-month's statistics and every "
        "station's totals from the observations",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Recompute under the ingest lock; exit 3 if a run holds it."""
    if not args.recompute:
        raise ConfigError("stats: nothing to do (pass --recompute)")
    started = time.perf_counter()
    with db.connect(settings, autocommit=True, application_name="weather-warehouse-stats") as conn:
        if not shards.try_lock(conn):
            print(
                "weather-warehouse stats: an ingest run holds the lock "
                f"({shards.lock_holder(conn)}); nothing recomputed",
                file=sys.stderr,
            )
            return int(ExitCode.LOCK_HELD)
        try:
            load.prepare_session(conn)
            with conn.transaction():
                count = stats.recompute_all(conn)
        finally:
            shards.unlock(conn)
    seconds = round(time.perf_counter() - started, 3)
    if sys.stdout.isatty():
        print(f"recomputed {count:,} station-years in {seconds} s")
    else:
        print(json.dumps({"station_years": count, "seconds": seconds}))
    return int(ExitCode.OK)
