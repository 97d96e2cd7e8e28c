"""``weather-warehouse ingest``: ``--source SRC ...`` or ``--reload FILE ...``; ``--shard I/N``,
``--dry-run``, ``--recompute-stats``."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from types import FrameType
from typing import TYPE_CHECKING

import psycopg

from warehouse import logs
from warehouse.errors import ConfigError, DatabaseUnavailable, first_line, first_of
from warehouse.settings import Settings

if TYPE_CHECKING:
    from ingest_job.report import RunReport
    from ingest_job.shards import Shard

log = logging.getLogger("ingest_job")

# The final message names this many files that were not loaded, then counts.
_SHOWN_FILES = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--source`` (repeatable) or ``--reload``, and the options."""
    parser.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="SRC",
        help="a file, a folder, or s3://bucket/prefix (repeat for several)",
    )
    parser.add_argument(
        "--reload",
        nargs="+",
        default=[],
        metavar="FILE",
        help="load these files (paths or s3:// URIs) even if the ledger has them unchanged "
        "or rejected",
    )
    parser.add_argument(
        "--shard",
        metavar="I/N",
        default=None,
        help="take shard I (0-based) of N: the files of a stable share of the stations; "
        "default: JOB_COMPLETION_INDEX of INGEST_SHARDS, else the whole run",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="read and parse every file, report what a run would load or reject; "
        "write nothing (no database needed)",
    )
    parser.add_argument(
        "--recompute-stats",
        action="store_true",
        help="recompute the statistics of every station-year, not only those the run touched",
    )


def shard_of(text: str | None, settings: Settings) -> Shard:
    """The shard from ``--shard I/N``, else from ``JOB_COMPLETION_INDEX`` and ``INGEST_SHARDS``."""
    from ingest_job.shards import WHOLE, Shard

    if text is None:
        if settings.ingest_shards == 1:
            return WHOLE
        if settings.job_completion_index is None:
            raise ConfigError(
                f"INGEST_SHARDS is {settings.ingest_shards} but no shard is given: "
                "pass --shard I/N or set JOB_COMPLETION_INDEX"
            )
        index, count = settings.job_completion_index, settings.ingest_shards
    else:
        index_text, slash, count_text = text.partition("/")
        if not (slash and index_text.isdigit() and count_text.isdigit()):
            raise ConfigError(f"--shard {text!r}: expected I/N, e.g. 0/4")
        index, count = int(index_text), int(count_text)
    if not 0 <= index < count:
        raise ConfigError(f"shard {index}/{count}: the index must be from 0 to {count - 1}")
    return Shard(index, count)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the job; the exit code says how it went (see the README)."""
    from ingest_job.run import check, ingest

    if args.source and args.reload:
        raise ConfigError("--source and --reload cannot be used together")
    sources = args.reload or args.source
    if not sources:
        raise ConfigError("no source given: pass --source FOLDER|FILE|s3://bucket/prefix")
    shard = shard_of(args.shard, settings)
    if args.dry_run:
        report = check(settings, sources, shard=shard)
        _print_outcome(report, settings)
        return int(report.exit_code)
    from warehouse import tracing

    tracing.setup(settings, "weather-warehouse-ingest")
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        report = ingest(
            settings, sources, recompute_stats=args.recompute_stats, shard=shard,
            reload=bool(args.reload),
        )  # fmt: skip
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(f"lost the database connection: {first_line(exc)}") from None
    except psycopg.Error:
        raise  # a bug: the command says it once, as an internal error, in LOG_FORMAT
    finally:
        signal.signal(signal.SIGTERM, previous)
        tracing.shutdown()  # the job's spans leave before the pod is gone
    _print_outcome(report, settings)
    return int(report.exit_code)


def _print_outcome(report: RunReport, settings: Settings) -> None:
    as_json = logs.wants_json(settings.log_format, sys.stderr)
    said: list[str] = []
    # In JSON the run's own lines (each file, then the summary) already say these two.
    if report.error and not as_json:
        said.append(report.error)
    elif report.problems and not as_json:
        said.append(
            f"{len(report.problems)} file(s) not loaded:\n"
            + first_of(report.problems, _SHOWN_FILES, "(see ingest_file.error)")
        )
    if report.known_bad:
        said.append(
            f"{len(report.known_bad)} file(s) still rejected, "
            "unchanged since an earlier run (not counted as new failures):\n"
            + "\n".join(report.known_bad[:_SHOWN_FILES])
        )
    for text in said:
        if as_json:  # one voice: JSON lines like the rest of the run
            message, _, files = text.partition(":\n")
            log.warning(message, extra={"files": files.splitlines()})
        else:
            print(f"weather-warehouse ingest: {text}", file=sys.stderr)


def _terminate(signum: int, frame: FrameType | None) -> None:
    # Kubernetes stops the pod: finish the current file's work, then stop.
    from ingest_job.run import request_stop

    request_stop()
