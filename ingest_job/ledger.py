"""The ledger: one ``ingest_run`` row per run, one ``ingest_file`` row per file it looked at.

The ledger decides what a run may skip (a file loaded before, unchanged,
whose rows are still there) and keeps the audit of every file for a while.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg import sql

from ingest_job.report import FileResult, RunReport
from ingest_job.shards import WHOLE, Shard
from warehouse.errors import first_of

Connection = psycopg.Connection[tuple[object, ...]]

_LEDGER_COLUMNS = ("run_id", "uri", "format", "size_bytes", "checksum", "stations", "status",
                   "rows_read",
                   "rows_inserted", "rows_updated", "rows_rejected", "values_rejected_qc",
                   "error", "started_at", "finished_at")  # fmt: skip

_INSERT_FILE = """
INSERT INTO ingest_file (run_id, uri, format, size_bytes, checksum, stations, status, rows_read,
    rows_inserted, rows_updated, rows_rejected, values_rejected_qc, error, started_at, finished_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, clock_timestamp())
"""


def abandon_stale_runs(conn: Connection, shard: Shard = WHOLE) -> int:
    """Mark runs left 'running' by a killed process as failed.

    Only a lock holder calls this: a whole run knows no other run is alive,
    a shard knows that no whole run and no run of its own index is.
    """
    return conn.execute(
        """UPDATE ingest_run SET status = 'failed',
               finished_at = greatest(clock_timestamp(), started_at),
               error = coalesce(error, 'abandoned: the process ended before finishing (killed?)')
           WHERE status = 'running'
             AND (%(whole)s OR shard_index IS NULL OR shard_index = %(index)s)""",
        {"whole": shard.whole, "index": shard.index},
    ).rowcount


def start_run(conn: Connection, source: str, shard: Shard = WHOLE) -> int:
    """Record a new run; returns its id."""
    row = conn.execute(
        "INSERT INTO ingest_run (source, shard_index, shard_count) VALUES (%s, %s, %s) "
        "RETURNING run_id",
        (source, None if shard.whole else shard.index, None if shard.whole else shard.count),
    ).fetchone()
    assert row is not None
    return int(str(row[0]))


def finish_run(conn: Connection, report: RunReport) -> None:
    """Write the run's totals and final status."""
    conn.execute(
        """UPDATE ingest_run SET finished_at = clock_timestamp(), status = %s,
               files_seen = %s, files_loaded = %s, files_skipped = %s, files_rejected = %s,
               files_still_rejected = %s, rows_inserted = %s, rows_updated = %s,
               rows_rejected = %s, values_rejected_qc = %s, error = %s, exit_code = %s
           WHERE run_id = %s""",
        (
            "succeeded" if report.succeeded else "failed",
            report.files_seen, report.files_loaded, report.files_skipped,
            report.files_rejected + report.files_failed, report.files_still_rejected,
            report.rows_inserted, report.rows_updated, report.rows_rejected,
            report.values_rejected_qc, report.error or _problems(report), int(report.exit_code),
            report.run_id,
        ),
    )  # fmt: skip


def _problems(report: RunReport) -> str | None:
    return first_of(report.problems, 20, "files") if report.problems else None


@dataclass(frozen=True)
class Known:
    """What the ledger knows of a URI: its latest loaded delivery, its latest verdict."""

    loaded_checksum: str | None = None
    # The latest 'loaded' or 'rejected' row: a rejection still stands if it is the latest.
    last_status: str | None = None
    last_checksum: str | None = None
    last_run_id: int | None = None
    last_error: str | None = None


# The latest loaded delivery of each URI, unless rows it loaded were removed
# since (a trigger notes DELETE and TRUNCATE) or one of its stations has no
# row left at all (an index probe per station: catches removals no trigger
# saw); and the latest verdict (loaded or rejected) of each.
_LEDGER_BATCH_QUERY = """
SELECT coalesce(l.uri, v.uri), l.checksum, v.status, v.checksum, v.run_id, v.error
FROM (SELECT uri, checksum FROM (
          SELECT DISTINCT ON (uri) uri, checksum, stations, rows_removed_at
          FROM ingest_file
          WHERE status = 'loaded' AND uri = ANY(%(uris)s)
          ORDER BY uri, file_id DESC
      ) latest
      WHERE rows_removed_at IS NULL
        AND NOT EXISTS (
            SELECT 1 FROM unnest(latest.stations) AS carried (station_id)
            WHERE NOT EXISTS (SELECT 1 FROM observation o
                              WHERE o.station_id = carried.station_id))) l
FULL JOIN
     (SELECT DISTINCT ON (uri) uri, status, checksum, run_id, error FROM ingest_file
      WHERE status IN ('loaded', 'rejected') AND uri = ANY(%(uris)s)
      ORDER BY uri, file_id DESC) v
  ON v.uri = l.uri
"""

# URIs asked about the ledger in one query.
LEDGER_BATCH = 1000


def known_files(conn: Connection, uris: list[str]) -> dict[str, Known]:
    """What the ledger knows of each URI, asked :data:`LEDGER_BATCH` URIs at a time.

    A file whose URI and loaded checksum are here may be skipped as
    unchanged; one changed back to an earlier version is loaded again, and
    so is one whose rows were removed since (TRUNCATE, DELETE).
    """
    known: dict[str, Known] = {}
    for start in range(0, len(uris), LEDGER_BATCH):
        batch = uris[start : start + LEDGER_BATCH]
        rows = conn.execute(_LEDGER_BATCH_QUERY, {"uris": batch}).fetchall()
        for uri, loaded, status, checksum, run_id, error in rows:
            known[str(uri)] = Known(
                loaded_checksum=None if loaded is None else str(loaded),
                last_status=None if status is None else str(status),
                last_checksum=None if checksum is None else str(checksum),
                last_run_id=None if run_id is None else int(str(run_id)),
                last_error=None if error is None else str(error),
            )
    return known


def record(conn: Connection, run_id: int, results: Iterable[FileResult]) -> None:
    """Write ledger rows, many at once (one COPY: 20,000 rows cost a few tens of ms)."""
    statement = sql.SQL("COPY ingest_file ({}) FROM STDIN").format(
        sql.SQL(", ").join(map(sql.Identifier, _LEDGER_COLUMNS))
    )
    finished = datetime.now().astimezone()
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for result in results:
            copy.write_row((*_ledger_row(run_id, result), max(finished, result.started_at)))


def prune_audit(conn: Connection, keep_days: int, limit: int = 100_000) -> int:
    """Delete per-file audit rows older than ``keep_days`` that the ledger no longer needs.

    Kept whatever their age: each URI's latest 'loaded' row and its latest
    'loaded' or 'rejected' row (they decide whether a file is skipped, or
    still rejected). At most ``limit`` rows per call, so that a run's
    bookkeeping stays short; the next run deletes the rest.
    """
    return conn.execute(
        """DELETE FROM ingest_file WHERE file_id IN (
               SELECT f.file_id FROM ingest_file f
               WHERE f.started_at < now() - make_interval(days => %(days)s)
                 AND (f.status IN ('skipped', 'failed')
                      OR EXISTS (SELECT 1 FROM ingest_file n
                                 WHERE n.uri = f.uri AND n.file_id > f.file_id
                                   AND n.status = 'loaded')
                      OR (f.status = 'loaded' AND EXISTS (
                                 SELECT 1 FROM ingest_file n
                                 WHERE n.uri = f.uri AND n.file_id > f.file_id
                                   AND n.status = 'rejected')
                          AND EXISTS (SELECT 1 FROM ingest_file n
                                 WHERE n.uri = f.uri AND n.file_id > f.file_id
                                   AND n.status = 'loaded')))
               LIMIT %(limit)s)""",
        {"days": keep_days, "limit": limit},
    ).rowcount


def _ledger_row(run_id: int, r: FileResult) -> tuple[object, ...]:
    return (
        run_id, r.uri, r.format, r.size_bytes, r.checksum, r.stations, r.status, r.rows_read,
        r.rows_inserted, r.rows_updated, r.rows_rejected, r.values_rejected_qc, r.error,
        r.started_at,
    )  # fmt: skip


def insert_file(conn: Connection, run_id: int, result: FileResult) -> None:
    """Write one file's ledger row (inside the transaction that loaded it)."""
    conn.execute(_INSERT_FILE, _ledger_row(run_id, result))
