"""GHCN-Daily by-station CSV and ``.dly`` parsed by PostgreSQL: raw lines in, observation rows out.

A by-station (or ``by_year``) CSV file is COPYed as it is into a session
staging table (PostgreSQL's COPY splits the fields at the commas; a ``.dly`` is cut
into fields first and pivoted by its own statement, :mod:`ingest_job.pivot_dly`),
and one SQL
statement pivots its lines into observation rows (TMAX, TMIN and PRCP kept,
``-9999`` missing, quality-flagged values counted and dropped) and checks
every line as the Python parser would: a bad station id or date, a value
twice, a value missing or out of range. Parsing this format in Python (one
line per element, three to four lines per row) cost several times the
database's own work; in SQL it is one hash aggregate over rows PostgreSQL has
already split, written straight into its target as it comes out.

The statement only vouches for clean files. A bad line makes it raise (a
``data_exception``), as does a line COPY itself refuses; bytes the database
would read differently (see :mod:`ingest_job.formats.raw`) give None. Either
way the loader rolls back and has the Python parser read the file again to
name its bad lines: rejected files are rare, and their messages stay those of
one parser (``file:line: what was wrong``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import psycopg
from psycopg import sql

from ingest_job import pivot_dly
from ingest_job.formats import ghcn_dly
from ingest_job.formats.raw import RawFile
from warehouse.tracing import tracer

Connection = psycopg.Connection[tuple[object, ...]]

STAGING = (
    # DATA_VALUE as an integer: COPY refuses what is not one (a bad line).
    """CREATE TEMP TABLE IF NOT EXISTS raw_csv (
        id text, day text, element text, value integer, m_flag text, q_flag text,
        s_flag text, obs_time text) ON COMMIT DELETE ROWS""",
    pivot_dly.RAW_DLY,
    # What the pivot found per station of the file (pg_temp.pivot_station).
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

# COPY's text format with a comma for a tab: a plain file (formats/raw.py)
# has no quotes, backslashes or tabs, so both formats read it alike, and the
# text format's reader is the quicker (100 stations x 30 years: COPY 1.35-1.39 s
# against 1.52-1.59 s in CSV format, two rounds each, load 0.7-0.9). Empty
# fields are NULL, as unquoted empty fields in CSV.
_COPY = "COPY raw_csv FROM STDIN (FORMAT text, DELIMITER ',', NULL '')"

# The hash aggregate of a file's days: 1.1 M days (100 station records of 30
# years) fit in this (times hash_mem_multiplier), a by-station file of 250
# years in a tenth of it; beyond, it spills to disk. (The .dly statement's
# 36,000 station-months of 100 stations x 30 years took 42 MB.)
WORK_MEM = "256MB"

# One pass over the lines: a hash aggregate by station and day (the rows)
# and by station (each station's totals, handed to pg_temp.pivot_station),
# then each day is checked as it comes out, and written or refused.
#
# A plain file's fields are upper-case letters, digits and minus signs only
# (formats/raw.py), which makes the checks short: a station id as
# formats/station_txt.STATION_ID is 1 to 32 of them not opening with "-"; a
# YYYYMMDD date is 8 of them that are a non-negative integer and a real date
# (make_date raises otherwise, also for a day without a row); a value given
# twice or empty shows as more lines of kept elements than elements with a
# value; a value out of its column's range raises in the INSERT. What raises
# rolls back to the Python parser, like a refused line.
_CSV_PIVOT = """
WITH line AS (
    -- Each line's element compared once, not in every aggregate: TMAX 1, TMIN 2, PRCP 4.
    SELECT id, day, value, q_flag,
           CASE element WHEN 'TMAX' THEN 1 WHEN 'TMIN' THEN 2 WHEN 'PRCP' THEN 4 ELSE 0 END AS e
    FROM raw_csv OFFSET 0
), day AS (
    SELECT id, day, grouping(day) = 1 AS station_total, day::int AS ymd,
           max(value) FILTER (WHERE e = 1 AND value <> -9999 AND q_flag IS NULL) AS tmax,
           max(value) FILTER (WHERE e = 2 AND value <> -9999 AND q_flag IS NULL) AS tmin,
           max(value) FILTER (WHERE e = 4 AND value <> -9999 AND q_flag IS NULL) AS prcp,
           count(*) FILTER (WHERE e > 0) AS kept_lines,
           coalesce(bit_or(e) FILTER (WHERE value IS NOT NULL), 0) AS kept_elements,
           count(*) FILTER (WHERE e > 0 AND value <> -9999 AND q_flag IS NOT NULL) AS flagged
    FROM line GROUP BY GROUPING SETS ((id, day), (id))
), dated AS (
    SELECT *, make_date(ymd / 10000, ymd / 100 % 100, ymd % 100) AS obs_date FROM day OFFSET 0
)
INSERT INTO {target} (station_id, obs_date, tmax_tenths_c, tmin_tenths_c, prcp_tenths_mm)
SELECT id, obs_date, tmax, tmin, prcp FROM dated
WHERE CASE
    WHEN station_total AND (id IS NULL OR octet_length(id) > 32 OR ascii(id) = 45)
        THEN pg_temp.pivot_refuse(id, NULL)
    WHEN station_total
        THEN pg_temp.pivot_station(id, flagged, coalesce(tmax, tmin, prcp) IS NOT NULL)
    WHEN day IS NULL OR octet_length(day) <> 8 OR ymd < 0 OR prcp < 0
         OR kept_lines <> (kept_elements & 1) + (kept_elements >> 1 & 1) + (kept_elements >> 2)
        THEN pg_temp.pivot_refuse(id, day)
    ELSE coalesce(tmax, tmin, prcp) IS NOT NULL
END
"""

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
    :mod:`ingest_job.formats.raw`): the caller rolls back and parses it in
    Python. A bad line raises ``psycopg.DataError`` (or ``IntegrityError``),
    to the same end.
    """
    dly = raw.format == ghcn_dly.FORMAT
    table, copy_statement = ("raw_dly", pivot_dly.COPY) if dly else ("raw_csv", _COPY)
    # Emptied at commit, but a first load stages several files in one transaction.
    conn.execute(sql.SQL("TRUNCATE {}, pivot_station").format(sql.Identifier(table)))
    attributes = {"db.system.name": "postgresql", "db.operation.name": "COPY",
                  "db.collection.name": table}  # fmt: skip
    with (
        tracer.start_as_current_span(f"COPY {table}", attributes=attributes),
        conn.cursor() as cur,
        cur.copy(copy_statement) as copy,
    ):
        for block in raw.blocks(chunks):
            copy.write(block)
    if not raw.plain or raw.empty:
        return None
    conn.execute("SELECT set_config('work_mem', %s, true)", (WORK_MEM,))
    before, _, after = (pivot_dly.PIVOT if dly else _CSV_PIVOT).partition("{target}")
    # Composed, not formatted: the statement holds braces of its own.
    statement = sql.Composed([sql.SQL(before), sql.Identifier(target), sql.SQL(after)])
    rows = conn.execute(statement).rowcount
    stations, flagged = set(), 0
    for station, values_flagged, has_rows in conn.execute(_STATIONS):
        flagged += int(str(values_flagged))
        if has_rows:
            stations.add(str(station))
    return Pivoted(rows, flagged, frozenset(stations))
