"""``weather-warehouse ingest --source SRC [--source SRC ...] [--recompute-stats]``."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from types import FrameType

import psycopg

from warehouse.errors import DatabaseUnavailable, ExitCode, first_line, first_of
from warehouse.settings import Settings

log = logging.getLogger("ingest_job")

# The final message names this many files that were not loaded, then counts.
_SHOWN_FILES = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--source`` (repeatable) and ``--recompute-stats``."""
    parser.add_argument(
        "--source",
        action="append",
        required=True,
        metavar="SRC",
        help="a file, a folder, or s3://bucket/prefix (repeat for several)",
    )
    parser.add_argument(
        "--recompute-stats",
        action="store_true",
        help="recompute the statistics of every station-year, not only those the run touched",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the job; the exit code says how it went (see the README)."""
    from ingest_job.run import ingest

    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        report = ingest(settings, args.source, recompute_stats=args.recompute_stats)
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(f"lost the database connection: {first_line(exc)}") from None
    except psycopg.Error as exc:
        log.exception("ingest failed on a database error")
        print(f"weather-warehouse ingest: internal error: {first_line(exc)}", file=sys.stderr)
        return int(ExitCode.INTERNAL)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if report.error:
        print(f"weather-warehouse ingest: {report.error}", file=sys.stderr)
    elif report.problems:
        print(
            f"weather-warehouse ingest: {len(report.problems)} file(s) not loaded:\n"
            + first_of(report.problems, _SHOWN_FILES, "(see ingest_file.error)"),
            file=sys.stderr,
        )
    return int(report.exit_code)


def _terminate(signum: int, frame: FrameType | None) -> None:
    # Kubernetes stops the pod: finish the current file's work, then stop.
    from ingest_job.run import request_stop

    request_stop()
