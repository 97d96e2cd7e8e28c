"""GHCN-Daily by-station CSV and ``.dly`` parsed by PostgreSQL: raw lines in, observation rows out.

A by-station (or ``by_year``) CSV file is COPYed as it is into a table
(PostgreSQL's COPY splits the fields at the commas) and pivoted into days
(TMAX, TMIN and PRCP kept, ``-9999`` missing, quality-flagged values counted
and dropped), each day checked as the Python parser would check it: a bad
station id or date, a value twice, a value missing or out of range. A file
under ``PARALLEL_BYTES`` (nearly every real by-station file) goes to the
session's temporary table, and one statement pivots it into its target in
one pass; a larger one goes to tables of the load's own, pivoted by a
parallel sort, then written in key order (see ``PARALLEL_BYTES``).
Parsing this format in Python (one line per element, three to four lines
per row) cost several times the database's own work. A ``.dly`` is cut
into fields first and pivoted by its own statement
(:mod:`ingest_job.pivot_dly`).

The statement only vouches for clean files. A bad line makes it raise (a
``data_exception``), as does a line COPY itself refuses; bytes the database
would read differently (see :mod:`ingest_job.formats.raw`) give None. Either
way the loader rolls back and has the Python parser read the file again to
name its bad lines: rejected files are rare, and their messages stay those of
one parser (``file:line: what was wrong``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from psycopg import sql

from ingest_job import pivot_dly
from ingest_job.formats import ghcn_dly
from ingest_job.formats.raw import RawFile
from ingest_job.formats.station_txt import STATION_ID
from warehouse.tracing import tracer

Connection = psycopg.Connection[tuple[object, ...]]

# The lines of a CSV, as COPY splits them; DATA_VALUE as an integer: COPY
# refuses what is not one (a bad line).
_LINES = """id text, day text, element text, value integer, m_flag text, q_flag text,
    s_flag text, obs_time text"""

STAGING = (
    # A small CSV's lines (see PARALLEL_BYTES).
    f"CREATE TEMP TABLE IF NOT EXISTS ingest_csv_lines ({_LINES}) ON COMMIT DELETE ROWS",
    pivot_dly.RAW_DLY,
    # What a one-pass pivot found per station of the file (pg_temp.pivot_station).
    """CREATE TEMP TABLE IF NOT EXISTS pivot_station (
        station_id text, values_flagged bigint, has_rows boolean) ON COMMIT DELETE ROWS""",
    # The pivot raises this at a line the Python parser would refuse: the
    # statement stops there, and the loader rolls back to that parser.
    """CREATE OR REPLACE FUNCTION pg_temp.pivot_refuse(id text, day text) RETURNS boolean
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'a line the GHCN-Daily parser refuses (station %, date %)', id, day
            USING ERRCODE = 'data_exception';
    END $$""",
    # The statement's output is its target's rows; a station's totals leave
    # it through this side door, once per station (not per row or line).
    """CREATE OR REPLACE FUNCTION pg_temp.pivot_station(id text, flagged bigint, has_rows boolean)
    RETURNS boolean LANGUAGE sql AS $$
        INSERT INTO pivot_station VALUES (id, flagged, has_rows) RETURNING false
    $$""",
)

# A large CSV's lines and days go to unlogged tables of this load's own,
# created and dropped in its transaction, not to temporary tables:
# PostgreSQL's parallel workers cannot read temporary tables, and its pivot
# is then a parallel sort and group (2 workers and the job's backend here)
# whose days come out in key order. So the target fills in key order too,
# which makes the primary key's build and the indices' window read it in
# order: on 1.1 M days (100 stations x 30 years, 163 MB) the pivot took
# 2.1-2.3 s in parallel against 2.9 s as one process, the key 0.28 s against
# 0.8 s, the indices' window 0.85 s against 1.5 s, for 0.8 s to copy the
# days into their target. A rolled-back load leaves neither table behind:
# they never existed outside it. A small file (a real by-station file is 1
# to 20 MB) cannot gain that much, and two tables made and dropped cost
# more: it uses the session's temporary tables, as does a user who may not
# create tables in the schema (400 files of 1,100 rows: 5.2-5.6 s before
# this split, 6.9 s with unlogged tables for each, 6.0-6.2 s with temporary
# tables made for each).
PARALLEL_BYTES = 16 << 20
_CAN_CREATE = "SELECT coalesce(has_schema_privilege(current_schema(), 'CREATE'), false)"
_CREATE_LINES = "CREATE UNLOGGED TABLE {lines} (" + _LINES + ")"

# COPY's text format with a comma for a tab: a plain file (formats/raw.py)
# has no quotes, backslashes or tabs, so both formats read it alike, and the
# text format's reader is the quicker (100 stations x 30 years: COPY 1.35-1.39 s
# against 1.52-1.59 s in CSV format, two rounds each, load 0.7-0.9). Empty
# fields are NULL, as unquoted empty fields in CSV.
_COPY = "COPY {lines} FROM STDIN (FORMAT text, DELIMITER ',', NULL '')"

# The sorts of the CSV pivot (each of its processes holds this much) and the
# hash aggregate of the .dly statement: 1.1 M days (100 station records of 30
# years) sort in memory (155-165 MB a process), a by-station file of 250 years
# in a tenth of it; beyond, they spill to disk. (The .dly statement's 36,000
# station-months of 100 stations x 30 years took 42 MB.)
WORK_MEM = "256MB"

# The pieces of both CSV pivots. Each line's element compared once, not in
# every aggregate: TMAX 1, TMIN 2, PRCP 4.
_LINE = """SELECT id, day, value, q_flag,
           CASE element WHEN 'TMAX' THEN 1 WHEN 'TMIN' THEN 2 WHEN 'PRCP' THEN 4 ELSE 0 END AS e
    FROM {lines}"""
_FIGURES = """max(value) FILTER (WHERE e = 1 AND value <> -9999 AND q_flag IS NULL) AS tmax,
           max(value) FILTER (WHERE e = 2 AND value <> -9999 AND q_flag IS NULL) AS tmin,
           max(value) FILTER (WHERE e = 4 AND value <> -9999 AND q_flag IS NULL) AS prcp,
           count(*) FILTER (WHERE e > 0) AS kept_lines,
           coalesce(bit_or(e) FILTER (WHERE value IS NOT NULL), 0) AS kept_elements,
           count(*) FILTER (WHERE e > 0 AND value <> -9999 AND q_flag IS NOT NULL) AS flagged"""
_DATE = "make_date(ymd / 10000, ymd / 100 % 100, ymd % 100)"
# A day the Python parser would refuse. A plain file's fields are upper-case
# letters, digits and minus signs only (formats/raw.py), which makes the
# checks short: a YYYYMMDD date is 8 of them that are a non-negative integer
# and a real date (make_date raises otherwise, also for a day without a kept
# value); a value given twice or empty shows as more lines of kept elements
# than elements with a value; a value out of its column's range raises in
# the INSERT. What raises rolls back to the Python parser, like a refusal.
# (Station ids are checked in Python on the stations' totals: see _pivoted.)
_REFUSED = """id IS NULL OR day IS NULL OR octet_length(day) <> 8 OR ymd < 0 OR prcp < 0
         OR kept_lines <> (kept_elements & 1) + (kept_elements >> 1 & 1) + (kept_elements >> 2)"""
_INSERT = (
    "INSERT INTO {target} (station_id, obs_date, tmax_tenths_c, tmin_tenths_c, prcp_tenths_mm)"
)


def _pieces(template: str) -> str:
    """A CSV pivot's statement with its pieces (<line>, <figures>, ...) filled in."""
    for marker, piece in (("<line>", _LINE), ("<figures>", _FIGURES), ("<date>", _DATE),
                          ("<refused>", _REFUSED), ("<insert>", _INSERT)):  # fmt: skip
        template = template.replace(marker, piece)
    return template


# A small file's pivot, in one pass over its lines: a hash aggregate by
# station and day (the rows) and by station (each station's totals, handed
# to pg_temp.pivot_station), each day checked as it comes out, and written
# or refused.
_CSV_PIVOT = _pieces("""
WITH line AS (<line> OFFSET 0
), day AS (
    SELECT id, day, grouping(day) = 1 AS station_total, day::int AS ymd,
           <figures>
    FROM line GROUP BY GROUPING SETS ((id, day), (id))
), dated AS (
    SELECT *, <date> AS obs_date FROM day OFFSET 0
)
<insert>
SELECT id, obs_date, tmax, tmin, prcp FROM dated
WHERE CASE
    WHEN station_total
        THEN pg_temp.pivot_station(id, flagged, coalesce(tmax, tmin, prcp) IS NOT NULL)
    WHEN <refused>
        THEN pg_temp.pivot_refuse(id, day)
    ELSE coalesce(tmax, tmin, prcp) IS NOT NULL
END
""")

# A large file's pivot makes its own table of days (CREATE TABLE AS may run
# in parallel, INSERT ... SELECT may not; a grouping set may not either).
# The planner would hash the lines (and sort the days after it, given an
# ORDER BY: 4.2 s), so it is told not to: it sorts each process's share and
# merges the groups, in key order.
_CSV_DAYS = _pieces("""
CREATE UNLOGGED TABLE {days} AS
WITH line AS (<line>)
SELECT id, day,
       <figures>
FROM line GROUP BY id, day
""")

# Then the days into their target, in the order they were pivoted, each
# checked as it goes (OFFSET 0: every day's date is made, so checked).
_CSV_ROWS = _pieces("""
<insert>
SELECT id, obs_date, tmax, tmin, prcp
FROM (SELECT *, <date> AS obs_date
      FROM (SELECT *, day::int AS ymd FROM {days}) numbered OFFSET 0) dated
WHERE CASE
    WHEN <refused>
        THEN pg_temp.pivot_refuse(id, day)
    ELSE coalesce(tmax, tmin, prcp) IS NOT NULL
END
""")

# And each station's totals.
_CSV_STATIONS = """
SELECT id, sum(flagged), bool_or(coalesce(tmax, tmin, prcp) IS NOT NULL) FROM {days} GROUP BY id
"""

# The .dly statement's station totals (see pg_temp.pivot_station).
_STATIONS = "SELECT station_id, values_flagged, has_rows FROM pivot_station"


@dataclass(frozen=True)
class Pivoted:
    """A clean file's rows, now in its target table."""

    rows: int
    values_rejected_qc: int
    stations: frozenset[str]


def prepare_session(conn: Connection) -> None:
    """Create this session's raw staging tables and functions (once per connection)."""
    for statement in STAGING:
        conn.execute(statement)


def stage(
    conn: Connection, raw: RawFile, chunks: Iterable[bytes], target: str = "stage_observation"
) -> Pivoted | None:
    """COPY a file's raw lines, pivot them into ``target`` (in the caller's transaction).

    ``target`` is ``stage_observation`` for a merge, ``observation`` itself
    for a first load (:mod:`ingest_job.bulk`).
    None when the database cannot vouch for the file's bytes (see
    :mod:`ingest_job.formats.raw`) or a station id: the caller rolls back
    and parses it in Python. A bad line raises ``psycopg.DataError`` (or
    ``IntegrityError``), to the same end.
    """
    if raw.format == ghcn_dly.FORMAT:
        return _stage_dly(conn, raw, chunks, target)
    return _stage_csv(conn, raw, chunks, target)


def _stage_csv(
    conn: Connection, raw: RawFile, chunks: Iterable[bytes], target: str
) -> Pivoted | None:
    if raw.size >= PARALLEL_BYTES and conn.execute(_CAN_CREATE).fetchone() == (True,):
        return _stage_large_csv(conn, raw, chunks, target)
    names = {"lines": sql.Identifier("ingest_csv_lines"), "target": sql.Identifier(target)}
    with emptied(conn, "ingest_csv_lines", "pivot_station"):
        _copy(conn, raw, chunks, sql.SQL(_COPY).format(**names), "ingest_csv_lines")
        if not raw.plain or raw.empty:
            return None
        conn.execute("SELECT set_config('work_mem', %s, true)", (WORK_MEM,))
        rows = conn.execute(sql.SQL(_CSV_PIVOT).format(**names)).rowcount
        return _pivoted(rows, conn.execute(_STATIONS).fetchall())


def _stage_large_csv(
    conn: Connection, raw: RawFile, chunks: Iterable[bytes], target: str
) -> Pivoted | None:
    pid = conn.info.backend_pid  # one load per session: the names cannot clash
    names = {"lines": sql.Identifier(f"ingest_csv_lines_{pid}"),
             "days": sql.Identifier(f"ingest_csv_days_{pid}"),
             "target": sql.Identifier(target)}  # fmt: skip
    conn.execute(sql.SQL(_CREATE_LINES).format(**names))
    # The span names the table without this session's number (one span name, not one per pid).
    _copy(conn, raw, chunks, sql.SQL(_COPY).format(**names), "ingest_csv_lines")
    pivoted = None
    if raw.plain and not raw.empty:
        conn.execute("SELECT set_config('work_mem', %s, true)", (WORK_MEM,))
        hashagg = conn.execute("SELECT current_setting('enable_hashagg')").fetchone()
        conn.execute("SET LOCAL enable_hashagg = off")  # see _CSV_DAYS
        conn.execute(sql.SQL(_CSV_DAYS).format(**names))
        conn.execute("SELECT set_config('enable_hashagg', %s, true)", hashagg)
        rows = conn.execute(sql.SQL(_CSV_ROWS).format(**names)).rowcount
        pivoted = _pivoted(rows, conn.execute(sql.SQL(_CSV_STATIONS).format(**names)).fetchall())
        _drop(conn, f"ingest_csv_days_{pid}")
    _drop(conn, f"ingest_csv_lines_{pid}")
    return pivoted


def _stage_dly(
    conn: Connection, raw: RawFile, chunks: Iterable[bytes], target: str
) -> Pivoted | None:
    # Composed, not formatted: the statement holds braces of its own.
    before, _, after = pivot_dly.PIVOT.partition("{target}")
    statement = sql.Composed([sql.SQL(before), sql.Identifier(target), sql.SQL(after)])
    with emptied(conn, "raw_dly", "pivot_station"):
        _copy(conn, raw, chunks, sql.SQL(pivot_dly.COPY), "raw_dly")
        if not raw.plain or raw.empty:
            return None
        conn.execute("SELECT set_config('work_mem', %s, true)", (WORK_MEM,))
        rows = conn.execute(statement).rowcount
        return _pivoted(rows, conn.execute(_STATIONS).fetchall())


@contextmanager
def emptied(conn: Connection, *tables: str) -> Iterator[None]:
    """Staging ``tables`` emptied (TRUNCATE) before one file's work and after it, in its savepoint.

    TRUNCATE gives a table new storage and frees the old only at commit, and
    a first load stages every file of its batch in one transaction (a
    savepoint each), so the batch's staging grew with its files. Emptied
    again in the savepoint that gave it its new storage, a table is cut down
    in place, at once: the batch holds one file's staging at a time. (On an
    error the savepoint's rollback frees that storage itself.)
    """
    truncate = sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(map(sql.Identifier, tables)))
    if tables:
        conn.execute(truncate)
    yield
    if tables:
        conn.execute(truncate)


def _drop(conn: Connection, table: str) -> None:
    """Drop a table made in this savepoint, emptied first (see :func:`emptied`).

    A dropped table's storage waits for the commit; an emptied one's is freed at once.
    """
    conn.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(table)))
    conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(table)))


def _pivoted(rows: int, totals: list[tuple[object, ...]]) -> Pivoted | None:
    """The file's counts from its stations' totals; None at a station id its parser refuses."""
    stations, flagged = set(), 0
    for station, values_flagged, has_rows in totals:
        if not isinstance(station, str) or not STATION_ID.fullmatch(station):
            return None
        flagged += int(str(values_flagged))
        if has_rows:
            stations.add(station)
    return Pivoted(rows, flagged, frozenset(stations))


def _copy(conn: Connection, raw: RawFile, chunks: Iterable[bytes],
          statement: sql.Composed | sql.SQL, table: str) -> None:  # fmt: skip
    """The file's COPY data (see RawFile.blocks) into ``table``, in a span of its own."""
    attributes = {"db.system.name": "postgresql", "db.operation.name": "COPY",
                  "db.collection.name": table}  # fmt: skip
    with (
        tracer.start_as_current_span(f"COPY {table}", attributes=attributes),
        conn.cursor() as cur,
        cur.copy(statement) as copy,
    ):
        for block in raw.blocks(chunks):
            copy.write(block)
