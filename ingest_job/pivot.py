"""GHCN-Daily by-station CSV parsed by PostgreSQL: raw lines in, observation rows out.

A by-station (or ``by_year``) CSV file is COPYed as it is into a session
staging table (PostgreSQL's CSV reader splits the fields), and one SQL
statement pivots its lines into observation rows (TMAX, TMIN and PRCP kept,
``-9999`` missing, quality-flagged values counted and dropped) while it
counts every line the Python parser would refuse: a bad station id or date,
a value twice, a value missing or out of range. Parsing this format in
Python (one line per element, three to four lines per row) cost several
times the database's own work; in SQL it is one hash aggregate over rows
PostgreSQL has already split.

The statement only vouches for clean files. A file with a bad line (or bytes
the database reads differently, see :mod:`ingest_job.formats.raw`) gives
None, and the loader rolls back and has the Python parser read it again to
name its bad lines: rejected files are rare, and their messages stay those of
one parser (``file:line: what was wrong``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import psycopg
from psycopg import sql

from ingest_job.formats.raw import RawFile
from warehouse.tracing import tracer

Connection = psycopg.Connection[tuple[object, ...]]

STAGING = (
    # DATA_VALUE as an integer: COPY refuses what is not one (a bad line).
    """CREATE TEMP TABLE IF NOT EXISTS raw_csv (
        id text, day text, element text, value integer, m_flag text, q_flag text,
        s_flag text, obs_time text) ON COMMIT DELETE ROWS""",
)

_COPY = "COPY raw_csv FROM STDIN (FORMAT csv)"

# A plain file's fields are upper-case letters, digits and minus signs only
# (formats/raw.py), which makes the checks below short: a station id as
# formats/station_txt.STATION_ID is 1 to 32 of them not opening with "-", a
# YYYYMMDD date is 8 of them that are an integer and a real date (make_date
# raises otherwise), and a value out of a column's range raises in the INSERT.
# What raises rolls back to the Python parser, like a counted bad line.
_CSV_PIVOT = """
WITH days AS MATERIALIZED (
    SELECT id, day,
           count(*) FILTER (WHERE element = 'TMAX') > 1
           OR count(*) FILTER (WHERE element = 'TMIN') > 1
           OR count(*) FILTER (WHERE element = 'PRCP') > 1
           OR bool_or(element IN ('TMAX', 'TMIN', 'PRCP') AND value IS NULL) AS bad,
           max(value) FILTER (WHERE element = 'TMAX' AND value <> -9999 AND q_flag IS NULL) AS tmax,
           max(value) FILTER (WHERE element = 'TMIN' AND value <> -9999 AND q_flag IS NULL) AS tmin,
           max(value) FILTER (WHERE element = 'PRCP' AND value <> -9999 AND q_flag IS NULL) AS prcp,
           count(*) FILTER (WHERE element IN ('TMAX', 'TMIN', 'PRCP') AND value <> -9999
                            AND q_flag IS NOT NULL) AS flagged
    FROM raw_csv GROUP BY id, day
), kept AS (
    INSERT INTO {target} (station_id, obs_date, tmax_tenths_c, tmin_tenths_c, prcp_tenths_mm)
    SELECT id, make_date(day::int / 10000, day::int / 100 % 100, day::int % 100), tmax, tmin, prcp
    FROM days WHERE coalesce(tmax, tmin, prcp) IS NOT NULL
)
SELECT count(*) FILTER (WHERE bad OR id IS NULL OR octet_length(id) NOT BETWEEN 1 AND 32
                           OR ascii(id) = 45 OR day IS NULL OR octet_length(day) <> 8
                           OR day::int < 0 OR prcp < 0
                           -- A day without a row is a date all the same (make_date raises).
                           OR (coalesce(tmax, tmin, prcp) IS NULL
                               AND make_date(day::int / 10000, day::int / 100 % 100,
                                             day::int % 100) IS NULL)),
       coalesce(sum(flagged), 0),
       count(*) FILTER (WHERE coalesce(tmax, tmin, prcp) IS NOT NULL),
       (SELECT coalesce(array_agg(id), '{}') FROM (SELECT DISTINCT id FROM days
                                                  WHERE coalesce(tmax, tmin, prcp) IS NOT NULL) s)
FROM days
"""


@dataclass(frozen=True)
class Pivoted:
    """A clean file's rows, now in ``stage_observation``."""

    rows: int
    values_rejected_qc: int
    stations: frozenset[str]


def prepare_session(conn: Connection) -> None:
    """Create this session's raw staging tables (once per connection)."""
    for statement in STAGING:
        conn.execute(statement)


def stage(
    conn: Connection, raw: RawFile, chunks: Iterable[bytes], target: str = "stage_observation"
) -> Pivoted | None:
    """COPY a file's raw lines, pivot them into ``target`` (in the caller's transaction).

    ``target`` is ``stage_observation`` for a merge, ``observation`` itself
    for a first load (:mod:`ingest_job.bulk`).
    None when the database cannot vouch for the file (a bad line, or bytes it
    would read differently): the caller rolls back and parses it in Python.
    A line COPY itself refuses raises ``psycopg.DataError``, to the same end.
    """
    # Emptied at commit, but a first load stages several files in one transaction.
    conn.execute("TRUNCATE raw_csv")
    attributes = {"db.system.name": "postgresql", "db.operation.name": "COPY",
                  "db.collection.name": "raw_csv"}  # fmt: skip
    with (
        tracer.start_as_current_span("COPY raw_csv", attributes=attributes),
        conn.cursor() as cur,
        cur.copy(_COPY) as copy,
    ):
        for block in raw.blocks(chunks):
            copy.write(block)
    if not raw.plain or raw.empty:
        return None
    before, _, after = _CSV_PIVOT.partition("{target}")
    # Composed, not formatted: the statements hold braces of their own.
    statement = sql.Composed([sql.SQL(before), sql.Identifier(target), sql.SQL(after)])
    row = conn.execute(statement).fetchone()
    assert row is not None
    bad, flagged, rows, stations = row
    if bad:
        return None
    assert isinstance(stations, list)
    return Pivoted(int(str(rows)), int(str(flagged)), frozenset(map(str, stations)))
