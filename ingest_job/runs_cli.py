"""``weather-warehouse runs [--limit N] [--status S]`` and ``runs show RUN_ID [--status S]``.

What the operator of a nightly job asks first: which runs happened, how they
went, and what happened to each file of one run. A table at a terminal,
JSON otherwise (one document on stdout, for ``jq`` and scripts).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import TextIO

from warehouse import db
from warehouse.errors import ConfigError, ExitCode
from warehouse.settings import Settings

_RUN_COLUMNS = ("run_id", "shard", "status", "started_at", "finished_at", "files_seen",
                "files_loaded", "files_skipped", "files_rejected", "files_still_rejected",
                "rows_inserted", "rows_updated", "source", "error")  # fmt: skip
_RUNS = """
SELECT run_id,
       CASE WHEN shard_index IS NULL THEN NULL ELSE shard_index || '/' || shard_count END,
       status, started_at, finished_at, files_seen, files_loaded, files_skipped,
       files_rejected, files_still_rejected, rows_inserted, rows_updated, source, error
FROM ingest_run
WHERE (%(status)s::text IS NULL OR status = %(status)s)
ORDER BY run_id DESC LIMIT %(limit)s
"""
_FILE_COLUMNS = ("uri", "status", "format", "size_bytes", "rows_read", "rows_inserted",
                 "rows_updated", "rows_rejected", "values_rejected_qc", "checksum",
                 "error")  # fmt: skip
_FILES = """
SELECT uri, status, format, size_bytes, rows_read, rows_inserted, rows_updated, rows_rejected,
       values_rejected_qc, checksum, error
FROM ingest_file
WHERE run_id = %(run_id)s AND (%(status)s::text IS NULL OR status = %(status)s)
ORDER BY file_id
"""
# Columns a terminal table shows (JSON has them all).
_RUN_TABLE = ("run_id", "shard", "status", "started_at", "files_seen", "files_loaded",
              "files_skipped", "files_rejected", "files_still_rejected", "rows_inserted",
              "rows_updated")  # fmt: skip
_FILE_TABLE = ("status", "format", "rows_read", "rows_inserted", "rows_updated", "uri", "error")
_WIDEST = 60


_RUN_STATUSES = ("running", "succeeded", "failed")
_FILE_STATUSES = ("loaded", "skipped", "rejected", "failed")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``runs [--limit N] [--status S] [--json]`` and ``runs show RUN_ID [--status S]``."""
    parser.add_argument("--limit", type=int, default=20, help="how many runs (default 20)")
    parser.add_argument("--status", choices=_RUN_STATUSES, help="only runs with this status")
    parser.add_argument("--json", action="store_true", help="JSON even at a terminal")
    shows = parser.add_subparsers(dest="action", metavar="show")
    show = shows.add_parser(
        "show",
        help="one run and each of its files",
        description="One ingest run and what happened to each of its files.",
        epilog=parser.epilog,
        formatter_class=parser.formatter_class,
    )
    show.add_argument("run_id", type=int, help="the run to show (the run_id of `runs`)")
    show.add_argument("--status", choices=_FILE_STATUSES, help="only files with this status")
    show.add_argument("--json", action="store_true", help="JSON even at a terminal")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """List runs, or one run and its files."""
    if args.action is None and args.limit < 1:
        raise ConfigError("--limit must be 1 or more")
    as_json = args.json or not sys.stdout.isatty()
    with db.connect(settings, autocommit=True, application_name="weather-warehouse-runs") as conn:
        if args.action != "show":
            found = conn.execute(_RUNS, {"status": args.status, "limit": args.limit}).fetchall()
            runs = [dict(zip(_RUN_COLUMNS, row, strict=True)) for row in found]
            _emit({"runs": runs}, as_json, lambda out: _table(runs, _RUN_TABLE, out))
            return int(ExitCode.OK)
        run_rows = conn.execute(
            _RUNS.replace("WHERE (", "WHERE run_id = %(run_id)s AND (", 1),
            {"run_id": args.run_id, "status": None, "limit": 1},
        ).fetchall()
        if not run_rows:
            raise ConfigError(f"no run {args.run_id} (runs lists them)")
        found = conn.execute(_FILES, {"run_id": args.run_id, "status": args.status}).fetchall()
    one = dict(zip(_RUN_COLUMNS, run_rows[0], strict=True))
    files = [dict(zip(_FILE_COLUMNS, row, strict=True)) for row in found]

    def table(out: TextIO) -> None:
        _table([one], _RUN_TABLE, out)
        if one["error"]:
            out.write(f"\nerror: {one['error']}\n")
        out.write(f"\n{len(files)} file(s)\n")
        _table(files, _FILE_TABLE, out)

    _emit({"run": one, "files": files}, as_json, table)
    return int(ExitCode.OK)


def _emit(document: dict[str, object], as_json: bool, table: object) -> None:
    if as_json:
        json.dump(document, sys.stdout, default=_json_value, indent=None)
        sys.stdout.write("\n")
    else:
        assert callable(table)
        table(sys.stdout)


def _json_value(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _table(rows: list[dict[str, object]], columns: tuple[str, ...], out: TextIO) -> None:
    cells = [[_cell(row[c], keep_end=c in ("uri", "source")) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    out.write("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip() + "\n")
    for row in cells:
        out.write("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() + "\n")


def _cell(value: object, *, keep_end: bool = False) -> str:
    """One value, on one line and at most 60 characters (a path keeps its end, the file name)."""
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    text = str(value).splitlines()[0] if str(value) else ""
    if len(text) <= _WIDEST:
        return text
    return "..." + text[3 - _WIDEST :] if keep_end else text[: _WIDEST - 3] + "..."
