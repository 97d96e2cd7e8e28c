"""Rows into PostgreSQL: COPY, merge, and the ledger (``ingest_run``, ``ingest_file``).

The loader knows tables, not file formats: it takes COPY rows for
``observation``, ``crop_yield`` or ``station`` (see ``formats.base.COLUMNS``).

Two ways in:

- :func:`load_file`, one transaction per file: COPY into a session-local
  staging table, straight from the parser as it reads the file (so memory
  does not grow with the file; a file with a bad line is rolled back whole,
  staging included), then one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE IS
  DISTINCT FROM`` that counts inserted and really-changed rows and notes the
  touched station-years and station-months, then the totals of the file's
  stations (counted from their rows), the statistics of those station-years
  and station-months, and the file's ledger row (with the stations it
  carried). A re-delivery with the same values updates nothing.
- :class:`BulkLoad`, for the first load into an empty ``observation``
  table: one transaction that drops the primary key, COPYs every file
  straight into the table, rebuilds the key once and computes all
  statistics. Building an index once is much cheaper than maintaining it
  row by row; with the table empty there is nothing to merge with. A shard
  (``ingest --shard I/N``) cannot drop a key other shards are using: it
  COPYs into the keyed table and computes the statistics of its own stations.

Locks: a whole run holds the ingest advisory lock alone; a shard holds it
shared (so no whole run can start) plus its own shard lock (so the same
shard cannot run twice), and shards of different indexes run side by side.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg import sql

from ingest_job import stats
from ingest_job.formats.base import COLUMNS, Parsed, Table
from ingest_job.report import FileResult, RunReport
from warehouse.db import INGEST_LOCK_KEY, INGEST_SHARD_COUNT_CLASS, INGEST_SHARD_LOCK_CLASS
from warehouse.errors import first_of
from warehouse.tracing import tracer

Connection = psycopg.Connection[tuple[object, ...]]

_STAGING = (
    """CREATE TEMP TABLE IF NOT EXISTS stage_observation (
        station_id text, obs_date date, tmax_tenths_c smallint, tmin_tenths_c smallint,
        prcp_tenths_mm integer) ON COMMIT DELETE ROWS""",
    """CREATE TEMP TABLE IF NOT EXISTS stage_crop_yield (
        year smallint, corn_yield_kt bigint) ON COMMIT DELETE ROWS""",
    """CREATE TEMP TABLE IF NOT EXISTS stage_station (
        station_id text, name text, state text, latitude double precision,
        longitude double precision, elevation_m double precision) ON COMMIT DELETE ROWS""",
    """CREATE TEMP TABLE IF NOT EXISTS touched_year (
        station_id text, year smallint, PRIMARY KEY (station_id, year)) ON COMMIT DELETE ROWS""",
    # The first day of each station-month a merge changed (monthly statistics).
    """CREATE TEMP TABLE IF NOT EXISTS touched_month (
        station_id text, month date, PRIMARY KEY (station_id, month)) ON COMMIT DELETE ROWS""",
)

_MERGE: dict[Table, str] = {
    "observation": """
WITH merged AS (
    INSERT INTO observation AS o (station_id, obs_date, tmax_tenths_c, tmin_tenths_c,
                                  prcp_tenths_mm)
    SELECT s.station_id, s.obs_date, s.tmax_tenths_c, s.tmin_tenths_c, s.prcp_tenths_mm
    FROM stage_observation s
    LEFT JOIN observation x ON x.station_id = s.station_id AND x.obs_date = s.obs_date
    -- Rows that are already there with the same values are left alone
    -- (not even locked): a re-delivery costs reads, not writes.
    WHERE x.station_id IS NULL
       OR (x.tmax_tenths_c, x.tmin_tenths_c, x.prcp_tenths_mm)
          IS DISTINCT FROM (s.tmax_tenths_c, s.tmin_tenths_c, s.prcp_tenths_mm)
    ON CONFLICT (station_id, obs_date) DO UPDATE SET
        tmax_tenths_c = excluded.tmax_tenths_c,
        tmin_tenths_c = excluded.tmin_tenths_c,
        prcp_tenths_mm = excluded.prcp_tenths_mm
    WHERE (o.tmax_tenths_c, o.tmin_tenths_c, o.prcp_tenths_mm)
          IS DISTINCT FROM (excluded.tmax_tenths_c, excluded.tmin_tenths_c, excluded.prcp_tenths_mm)
    RETURNING o.station_id, o.obs_date, (o.xmax = 0) AS inserted
), years AS (
    INSERT INTO touched_year (station_id, year)
    SELECT DISTINCT station_id, extract(year FROM obs_date)::smallint FROM merged
    ON CONFLICT DO NOTHING
), months AS (
    INSERT INTO touched_month (station_id, month)
    SELECT DISTINCT station_id, date_trunc('month', obs_date)::date FROM merged
    ON CONFLICT DO NOTHING
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM merged
""",
    "crop_yield": """
WITH merged AS (
    INSERT INTO crop_yield AS c (year, corn_yield_kt)
    SELECT year, corn_yield_kt FROM stage_crop_yield
    ON CONFLICT (year) DO UPDATE SET corn_yield_kt = excluded.corn_yield_kt
    WHERE c.corn_yield_kt IS DISTINCT FROM excluded.corn_yield_kt
    RETURNING (c.xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM merged
""",
    "station": """
WITH merged AS (
    INSERT INTO station AS s (station_id, name, state, latitude, longitude, elevation_m)
    SELECT station_id, name, state, latitude, longitude, elevation_m FROM stage_station
    ON CONFLICT (station_id) DO UPDATE SET
        name = excluded.name, state = excluded.state, latitude = excluded.latitude,
        longitude = excluded.longitude, elevation_m = excluded.elevation_m, updated_at = now()
    WHERE (s.name, s.state, s.latitude, s.longitude, s.elevation_m)
          IS DISTINCT FROM (excluded.name, excluded.state, excluded.latitude,
                            excluded.longitude, excluded.elevation_m)
    RETURNING (s.xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM merged
""",
}

# A day given in two rows (the lines of one day far apart in a .dly or CSV
# file): one row with each element's value (the parser refused any element twice).
_COMBINE_STAGED = """
WITH staged AS (DELETE FROM stage_observation RETURNING *)
INSERT INTO stage_observation
SELECT station_id, obs_date, max(tmax_tenths_c), max(tmin_tenths_c), max(prcp_tenths_mm)
FROM staged GROUP BY station_id, obs_date
"""

_LEDGER_COLUMNS = ("run_id", "uri", "format", "size_bytes", "checksum", "stations", "status",
                   "rows_read",
                   "rows_inserted", "rows_updated", "rows_rejected", "values_rejected_qc",
                   "error", "started_at", "finished_at")  # fmt: skip

_INSERT_FILE = """
INSERT INTO ingest_file (run_id, uri, format, size_bytes, checksum, stations, status, rows_read,
    rows_inserted, rows_updated, rows_rejected, values_rejected_qc, error, started_at, finished_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, clock_timestamp())
"""

# A file that inserts this many rows refreshes the planner's statistics first.
_ANALYZE_AFTER_ROWS = 100_000

# Building the primary key of 1.7 M rows sorts in memory with this much.
_BULK_MAINTENANCE_WORK_MEM = "256MB"


@dataclass(frozen=True)
class Merged:
    """What one file's merge changed."""

    inserted: int
    updated: int
    station_years: int


def prepare_session(conn: Connection) -> None:
    """Create this session's staging tables (once per connection)."""
    for statement in _STAGING:
        conn.execute(statement)


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (``ingest --shard I/N``); count 1 is a whole run."""

    index: int = 0
    count: int = 1

    @property
    def whole(self) -> bool:
        return self.count == 1

    def owns(self, station: str) -> bool:
        """Whether ``station`` is this shard's: CRC-32 of its id, stable everywhere."""
        return self.whole or zlib.crc32(station.encode()) % self.count == self.index

    def foreign(self, stations: Iterable[str]) -> list[str]:
        """The ``stations`` that belong to other shards, sorted."""
        return sorted(s for s in stations if not self.owns(s))

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


WHOLE = Shard()


def try_lock(conn: Connection, shard: Shard = WHOLE) -> bool:
    """Take this run's ingest locks for the session, without waiting.

    A whole run takes the ingest lock alone. A shard takes it shared, then the
    lock of its index, then its shard count's lock shared; it holds none of
    them if it cannot have all, or if a shard of another count holds its own:
    shares of different splits overlap, so they would load files twice.
    """
    if shard.whole:
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (INGEST_LOCK_KEY,)).fetchone()
        return bool(row and row[0])
    taken = 0
    for call, args in (
        ("pg_try_advisory_lock_shared(%s)", (INGEST_LOCK_KEY,)),
        ("pg_try_advisory_lock(%s, %s)", (INGEST_SHARD_LOCK_CLASS, shard.index)),
        ("pg_try_advisory_lock_shared(%s, %s)", (INGEST_SHARD_COUNT_CLASS, shard.count)),
    ):
        row = conn.execute(f"SELECT {call}", args).fetchone()
        if not (row and row[0]):
            break
        taken += 1
    else:
        # Checked after taking ours: two counts starting at once both refuse,
        # never both run.
        if not other_shard_counts(conn, shard):
            return True
    _release(conn, shard, taken)
    return False


def other_shard_counts(conn: Connection, shard: Shard) -> list[int]:
    """The shard counts of the other runs whose shards hold this database now."""
    found = conn.execute(
        """SELECT DISTINCT objid::bigint FROM pg_locks
           WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid = %s
             AND objid <> %s AND pid <> pg_backend_pid()
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
           ORDER BY 1""",
        (INGEST_SHARD_COUNT_CLASS, shard.count),
    ).fetchall()
    return [int(str(row[0])) for row in found]


def unlock(conn: Connection, shard: Shard = WHOLE) -> None:
    """Release the ingest locks now.

    Closing the connection would release them too, but only once the server
    process has noticed, which can be after the next run has already tried.
    """
    if shard.whole:
        conn.execute("SELECT pg_advisory_unlock(%s)", (INGEST_LOCK_KEY,))
        return
    _release(conn, shard, 3)


def _release(conn: Connection, shard: Shard, taken: int) -> None:
    """Release the first ``taken`` of a shard's three locks, last taken first."""
    unlocks = (
        ("pg_advisory_unlock_shared(%s)", (INGEST_LOCK_KEY,)),
        ("pg_advisory_unlock(%s, %s)", (INGEST_SHARD_LOCK_CLASS, shard.index)),
        ("pg_advisory_unlock_shared(%s, %s)", (INGEST_SHARD_COUNT_CLASS, shard.count)),
    )
    for call, args in reversed(unlocks[:taken]):
        conn.execute(f"SELECT {call}", args)


def lock_holder(conn: Connection, shard: Shard = WHOLE) -> str:
    """Who holds the lock this run wanted, for the refusal message."""
    if not shard.whole and (counts := other_shard_counts(conn, shard)):
        return (
            "shards of a run split "
            + " and ".join(f"{n} ways" for n in counts)
            + (f", not {shard.count}: wait for them, or run with the same shard count")
        )
    rows = conn.execute(
        """SELECT a.pid, a.application_name, a.client_addr::text, a.backend_start,
                  l.objsubid = 2 AS shard_lock, l.mode
           FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
           WHERE l.locktype = 'advisory' AND l.granted AND a.pid <> pg_backend_pid()
             AND ((l.objsubid = 1 AND ((l.classid::bigint << 32) | l.objid::bigint) = %s)
               OR (l.objsubid = 2 AND l.classid = %s AND l.objid = %s))
           ORDER BY l.objsubid DESC""",
        (INGEST_LOCK_KEY, INGEST_SHARD_LOCK_CLASS, shard.index),
    ).fetchall()
    if not rows:
        return "another session"
    pid, application, client, since, shard_lock, mode = rows[0]
    where = f" from {client}" if client else ""
    what = f"shard {shard.index}, " if shard_lock else ("a shard, " if mode == "ShareLock" else "")
    return (
        f"{what}PostgreSQL backend {pid} ({application or 'unknown client'}{where}, since {since})"
    )


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


def last_loaded(conn: Connection, uris: list[str]) -> dict[str, str]:
    """URI -> checksum of its latest loaded delivery whose rows are still there."""
    return {
        uri: k.loaded_checksum
        for uri, k in known_files(conn, uris).items()
        if k.loaded_checksum is not None
    }


def is_empty(conn: Connection) -> bool:
    """True when ``observation`` has no rows at all."""
    row = conn.execute("SELECT NOT EXISTS (SELECT 1 FROM observation)").fetchone()
    return bool(row and row[0])


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


def _copy_span(table: str) -> AbstractContextManager[object]:
    # psycopg's instrumentation traces statements, not COPY streams.
    attributes = {"db.system.name": "postgresql", "db.operation.name": "COPY",
                  "db.collection.name": table}  # fmt: skip
    return tracer.start_as_current_span(f"COPY {table}", attributes=attributes)


def copy_rows(
    conn: Connection, table: str, columns: tuple[str, ...], payloads: Iterable[bytes]
) -> None:
    """Stream COPY text rows into ``table``, block by block."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with _copy_span(table), conn.cursor() as cur, cur.copy(statement) as copy:
        for payload in payloads:
            copy.write(payload)


def load_file(conn: Connection, run_id: int, parsed: Parsed, result: FileResult) -> Merged:
    """Load one file parsed whole in memory (see :func:`stream_file`)."""
    merged = stream_file(conn, run_id, parsed, iter([parsed.payload]), result)
    assert merged is not None
    return merged


class ForeignStations(Exception):
    """A sharded run met a file holding other shards' stations: it is not loaded."""

    def __init__(self, name: str, stations: list[str]) -> None:
        shown = ", ".join(stations[:5]) + (f" and {len(stations) - 5} more" * (len(stations) > 5))
        super().__init__(
            f"{name}: holds stations of other shards ({shown}); a shard loads only its own"
            " stations, so that no two shards write the same rows or statistics: load this"
            " file with a run without --shard"
        )
        self.message = str(self)


def stream_file(
    conn: Connection,
    run_id: int,
    parsed: Parsed,
    payloads: Iterator[bytes],
    result: FileResult,
    *,
    shard: Shard = WHOLE,
) -> Merged | None:
    """Load one file in one transaction: merge, statistics, ledger row.

    ``payloads`` are the file's COPY rows as its parser gives them, while it
    reads the file; they go into staging as they come. If the parser finds a
    bad line (``parsed.ok`` is False once they are exhausted), the
    transaction is rolled back, staging included, and None is returned.
    ``result`` gets the counts and is written as the file's ledger row in the
    same transaction, so a file is either loaded and recorded, or neither.
    A file of a sharded run with stations of other shards raises ForeignStations.
    """
    try:
        with conn.transaction():
            copy_rows(conn, f"stage_{parsed.table}", COLUMNS[parsed.table], payloads)
            result.format = parsed.format
            result.rows_read = parsed.rows + parsed.lines_rejected
            result.values_rejected_qc = parsed.values_rejected_qc
            if parsed.table == "observation":
                result.stations = sorted(parsed.stations)
            if not parsed.ok:
                raise _Rollback
            if parsed.table == "observation" and (others := shard.foreign(parsed.stations)):
                raise ForeignStations(parsed.name, others)  # rolls back staging
            if parsed.partial:
                conn.execute(_COMBINE_STAGED)
            row = conn.execute(_MERGE[parsed.table]).fetchone()
            assert row is not None
            inserted, updated = int(str(row[0])), int(str(row[1]))
            if parsed.table == "observation" and inserted >= _ANALYZE_AFTER_ROWS:
                _analyze(conn)
            station_years = 0
            if parsed.table == "observation":
                stats.recount_stations(conn, parsed.stations)
                station_years = stats.recompute_touched(conn)
            result.rows_inserted, result.rows_updated = inserted, updated
            conn.execute(_INSERT_FILE, _ledger_row(run_id, result))
    except _Rollback:
        return None
    return Merged(inserted, updated, station_years)


def _analyze(conn: Connection) -> None:
    """Fresh planner statistics for what this transaction just wrote.

    After a large file went into a table the planner believes small (just
    created, emptied, or loaded by this very transaction), the statistics
    query would scan ``observation`` once per station-year: measured, a
    100 MB .dly file into an emptied table spent over 15 minutes there.
    ANALYZE samples a fixed number of rows, so it costs the same at any size.
    """
    conn.execute("ANALYZE observation")
    conn.execute("ANALYZE touched_year")
    conn.execute("ANALYZE touched_month")


class _Rollback(Exception):
    """Leave a file's transaction without keeping anything."""


class BulkUnavailable(Exception):
    """The database user may not drop and rebuild the primary key: merge file by file."""


class BulkLoad:
    """The files of a first load into an empty ``observation`` table (see :func:`bulk_load`)."""

    def __init__(self, copy: psycopg.Copy, keyed: bool = False) -> None:
        self._copy = copy
        self.keyed = keyed
        self.stations: set[str] = set()
        self.loaded: list[FileResult] = []
        self.station_years = 0

    def accepts(self, parsed: Parsed) -> bool:
        """True for clean observation files whose stations no earlier file carried.

        Disjoint stations guarantee that the rebuilt key cannot collide. A
        shard's batch (``keyed``) takes only files that hold nothing but the
        station they are named for: other shards load the others.
        """
        return (
            parsed.ok
            and not parsed.partial
            and parsed.table == "observation"
            and self.stations.isdisjoint(parsed.stations)
            and (not self.keyed or parsed.stations == {_named_station(parsed.name)})
        )

    def add(self, parsed: Parsed, result: FileResult) -> None:
        """Stream one file's rows into the batch's COPY; its ledger row follows at the end."""
        self._copy.write(parsed.payload)
        self.stations |= parsed.stations
        result.rows_inserted = parsed.rows
        self.loaded.append(result)


def _named_station(name: str) -> str:
    return name.rsplit("/", 1)[-1].rpartition(".")[0]


@contextmanager
def bulk_load(conn: Connection, run_id: int, *, keyed: bool = False) -> Iterator[BulkLoad]:
    """One transaction for a first load: drop the key, one COPY, rebuild the key, all statistics.

    Every file goes through one COPY, so that PostgreSQL stores one file's
    rows while the next is parsed. On a clean exit everything commits at
    once, ledger rows included; on an exception nothing does (the table stays
    empty). The table is locked meanwhile: readers wait on the very first load.

    ``keyed`` (a shard): the key stays, the table is not locked, and only the
    statistics of the batch's stations are computed, so that shards load side by side.
    """
    with conn.transaction():
        if not keyed:
            conn.execute("LOCK TABLE observation IN ACCESS EXCLUSIVE MODE")
            conn.execute(
                "SELECT set_config('maintenance_work_mem', %s, true)",
                (_BULK_MAINTENANCE_WORK_MEM,),
            )
            try:
                conn.execute("ALTER TABLE observation DROP CONSTRAINT observation_pkey")
            except psycopg.errors.InsufficientPrivilege:
                raise BulkUnavailable("the ingest user does not own table observation") from None
        statement = sql.SQL("COPY observation ({}) FROM STDIN").format(
            sql.SQL(", ").join(map(sql.Identifier, COLUMNS["observation"]))
        )
        with _copy_span("observation"), conn.cursor() as cur, cur.copy(statement) as copy:
            bulk = BulkLoad(copy, keyed)
            yield bulk
        if bulk.loaded:
            record(conn, run_id, bulk.loaded)
        if keyed:
            conn.execute("ANALYZE observation")  # see _analyze
            bulk.station_years = stats.recompute_stations(conn, bulk.stations)
            return
        conn.execute(
            "ALTER TABLE observation ADD CONSTRAINT observation_pkey "
            "PRIMARY KEY (station_id, obs_date)"
        )
        bulk.station_years = stats.recompute_all(conn)
