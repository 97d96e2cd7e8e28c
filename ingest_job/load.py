"""Rows of one file into PostgreSQL: COPY into staging, then one merge.

The loader knows tables, not file formats: it takes COPY rows for
``observation``, ``crop_yield`` or ``station`` (see ``formats.base.COLUMNS``).
:func:`stream_file` loads one file in one transaction: COPY into a
session-local staging table, straight from the parser as it reads the file
(so memory does not grow with the file; a file with a bad line is rolled back
whole, staging included), then one ``INSERT ... ON CONFLICT DO UPDATE ...
WHERE IS DISTINCT FROM`` that counts inserted and really-changed rows and
notes the touched station-years and station-months, then the totals of the
file's stations (counted from their rows), the statistics of those
station-years and station-months, and the file's ledger row (with the
stations it carried). A re-delivery with the same values updates nothing.

The first load into an empty table goes another way: see :mod:`ingest_job.bulk`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass

import psycopg
from psycopg import sql

from ingest_job import ledger, pivot, stats
from ingest_job.formats.base import COLUMNS, Parsed, Table
from ingest_job.formats.raw import RawFile
from ingest_job.report import FileResult
from ingest_job.shards import WHOLE, ForeignStations, Shard
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

# A file that inserts this many rows refreshes the planner's statistics first.
_ANALYZE_AFTER_ROWS = 100_000


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
    pivot.prepare_session(conn)


def is_empty(conn: Connection) -> bool:
    """True when ``observation`` has no rows at all."""
    row = conn.execute("SELECT NOT EXISTS (SELECT 1 FROM observation)").fetchone()
    return bool(row and row[0])


def copy_span(table: str) -> AbstractContextManager[object]:
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
    with copy_span(table), conn.cursor() as cur, cur.copy(statement) as copy:
        for payload in payloads:
            copy.write(payload)


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
            result.count(parsed)
            if not parsed.ok:
                raise _Rollback
            return _merge(conn, run_id, parsed, result, shard)
    except _Rollback:
        return None


def stream_raw(
    conn: Connection,
    run_id: int,
    parsed: Parsed,
    raw: RawFile,
    chunks: Iterable[bytes],
    *,
    result: FileResult,
    shard: Shard = WHOLE,
) -> Merged | None:
    """Load one GHCN-Daily CSV or .dly parsed by PostgreSQL (:mod:`ingest_job.pivot`).

    As :func:`stream_file`. ``parsed`` (the file's, not yet fed) gets the counts the database found.
    None when the database did not vouch for the file (a bad line, or bytes
    it reads differently): nothing was kept, and the caller gives the file to
    its Python parser (:func:`stream_file`), which names the bad lines.
    """
    try:
        with conn.transaction():
            pivoted = pivot.stage(conn, raw, chunks)
            if pivoted is None:
                raise _Rollback
            parsed.rows, parsed.stations = pivoted.rows, pivoted.stations
            parsed.values_rejected_qc = pivoted.values_rejected_qc
            result.count(parsed)
            return _merge(conn, run_id, parsed, result, shard)
    except (_Rollback, psycopg.DataError, psycopg.IntegrityError):
        # A line COPY or the statement refused (not an integer, a field too
        # many, an impossible date): rolled back before the Python parser reads it.
        return None


def _merge(
    conn: Connection, run_id: int, parsed: Parsed, result: FileResult, shard: Shard
) -> Merged:
    """A clean file's staged rows into its table, its statistics and its ledger row."""
    if parsed.table == "observation" and (others := shard.foreign(parsed.stations)):
        raise ForeignStations(parsed.name, others)  # rolls back staging
    if parsed.partial:
        conn.execute(_COMBINE_STAGED)
    row = conn.execute(_MERGE[parsed.table]).fetchone()
    assert row is not None
    inserted, updated = int(str(row[0])), int(str(row[1]))
    if parsed.table == "observation" and inserted >= _ANALYZE_AFTER_ROWS:
        analyze(conn)
    station_years = 0
    if parsed.table == "observation":
        stats.recount_stations(conn, parsed.stations)
        station_years = stats.recompute_touched(conn)
    result.rows_inserted, result.rows_updated = inserted, updated
    ledger.insert_file(conn, run_id, result)
    return Merged(inserted, updated, station_years)


def analyze(conn: Connection) -> None:
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
