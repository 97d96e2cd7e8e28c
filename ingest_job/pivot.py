"""GHCN-Daily files parsed by PostgreSQL: raw lines in, observation rows in staging out.

A by-station CSV or ``.dly`` file is COPYed as it is into a session staging
table (PostgreSQL's CSV reader splits the fields), and one SQL statement
pivots its lines into observation rows in ``stage_observation`` (TMAX, TMIN
and PRCP kept, ``-9999`` missing, quality-flagged values counted and
dropped) while it counts every line the Python parsers would refuse: a bad
station id or date, a value twice, a value that is not a whole number or is
out of range, a day beyond the month. Parsing in Python costs several times
the database's work for these formats (one line per element, 31 days per
line); in SQL it is a hash aggregate over rows PostgreSQL has already split.

The statements only vouch for clean files. A file with a bad line (or bytes
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

from ingest_job.formats import ghcn_csv, ghcn_dly
from ingest_job.formats.raw import RawFile
from warehouse.tracing import tracer

Connection = psycopg.Connection[tuple[object, ...]]

STAGING = (
    # DATA_VALUE as an integer: COPY refuses what is not one (a bad line).
    """CREATE TEMP TABLE IF NOT EXISTS raw_csv (
        id text, day text, element text, value integer, m_flag text, q_flag text,
        s_flag text, obs_time text) ON COMMIT DELETE ROWS""",
    """CREATE TEMP TABLE IF NOT EXISTS raw_dly (line text) ON COMMIT DELETE ROWS""",
)

_COPY = {
    ghcn_csv.FORMAT: ("raw_csv", "COPY raw_csv FROM STDIN (FORMAT csv)"),
    # One field per line: a plain .dly holds no tab and no backslash.
    ghcn_dly.FORMAT: ("raw_dly", "COPY raw_dly FROM STDIN"),
}

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
SELECT count(*) FILTER (WHERE bad OR octet_length(id) NOT BETWEEN 1 AND 32 OR ascii(id) = 45
                           OR id IS NULL OR octet_length(day) <> 8 OR day::int < 0 OR prcp < 0),
       coalesce(sum(flagged), 0),
       count(*) FILTER (WHERE coalesce(tmax, tmin, prcp) IS NOT NULL),
       (SELECT coalesce(array_agg(id), '{}') FROM (SELECT DISTINCT id FROM days
                                                  WHERE coalesce(tmax, tmin, prcp) IS NOT NULL) s)
FROM days
"""

# A .dly line's own checks, as the parser's: at most 269 characters, a station
# id, a year and a month (on every line), and an element kept given twice for a month.
_DLY_LINES = """
SELECT count(*) FILTER (WHERE octet_length(line) > 269
                        OR line !~ '^[A-Z0-9][A-Z0-9_-]{10}[1-9][0-9]{3}(0[1-9]|1[0-2])')
       + count(*) FILTER (WHERE substr(line, 18, 4) IN ('TMAX', 'TMIN', 'PRCP'))
       - count(DISTINCT substr(line, 1, 21)) FILTER (WHERE substr(line, 18, 4) IN
                                                     ('TMAX', 'TMIN', 'PRCP'))
FROM raw_dly WHERE btrim(line) <> ''
"""

# Each kept line's 31 day blocks in one regular expression: value (5 characters
# of spaces, digits and minus signs, which integer input and the parser read
# alike), then the M, Q and S flags. A line has 31 matches exactly when every
# block is such (a block that is not would shift the next matches, one fewer
# in all), so the cells must number 31 per line; the matches' order is the day.
_DLY_PIVOT = """
WITH lines AS MATERIALIZED (
    SELECT substr(line, 1, 17) AS head, substr(line, 18, 4) AS element, substr(line, 22) AS days,
           extract(day FROM make_date(substr(line, 12, 4)::int, substr(line, 16, 2)::int, 1)
                            + interval '1 month - 1 day')::int AS month_days
    FROM raw_dly WHERE substr(line, 18, 4) IN ('TMAX', 'TMIN', 'PRCP')
), days AS MATERIALIZED (
    SELECT head, day, bool_and(day <= month_days) AS real_day, count(*) AS cells,
           bool_or(day > month_days AND value <> -9999) AS bad,
           max(value) FILTER (WHERE element = 'TMAX' AND value <> -9999 AND q_flag = ' ') AS tmax,
           max(value) FILTER (WHERE element = 'TMIN' AND value <> -9999 AND q_flag = ' ') AS tmin,
           max(value) FILTER (WHERE element = 'PRCP' AND value <> -9999 AND q_flag = ' ') AS prcp,
           count(*) FILTER (WHERE value <> -9999 AND q_flag <> ' ') AS flagged
    FROM lines
    CROSS JOIN LATERAL regexp_matches(days, '([ 0-9-]{5}).(.).', 'g')
               WITH ORDINALITY AS m(block, day)
    CROSS JOIN LATERAL (SELECT block[1]::int AS value, block[2] AS q_flag OFFSET 0) cell
    GROUP BY head, day
), kept AS (
    INSERT INTO {target} (station_id, obs_date, tmax_tenths_c, tmin_tenths_c, prcp_tenths_mm)
    SELECT substr(head, 1, 11), make_date(substr(head, 12, 4)::int, substr(head, 16, 2)::int,
                                          day::int),
           tmax, tmin, prcp
    FROM days WHERE real_day AND coalesce(tmax, tmin, prcp) IS NOT NULL
)
SELECT count(*) FILTER (WHERE bad OR prcp < 0)
       + (SELECT count(*) FROM lines) * 31 - coalesce(sum(cells), 0),
       coalesce(sum(flagged) FILTER (WHERE real_day), 0),
       count(*) FILTER (WHERE real_day AND coalesce(tmax, tmin, prcp) IS NOT NULL),
       (SELECT coalesce(array_agg(station), '{}')
        FROM (SELECT DISTINCT substr(head, 1, 11) AS station FROM days
              WHERE real_day AND coalesce(tmax, tmin, prcp) IS NOT NULL) s)
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
    table, copy_statement = _COPY[raw.format]
    # Emptied at commit, but a first load stages several files in one transaction.
    conn.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(table)))
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
    if raw.format == ghcn_dly.FORMAT and _count(conn, _DLY_LINES):
        return None
    before, _, after = (_CSV_PIVOT if raw.format == ghcn_csv.FORMAT else _DLY_PIVOT).partition(
        "{target}"
    )
    # Composed, not formatted: the statements hold braces of their own.
    statement = sql.Composed([sql.SQL(before), sql.Identifier(target), sql.SQL(after)])
    row = conn.execute(statement).fetchone()
    assert row is not None
    bad, flagged, rows, stations = row
    if bad:
        return None
    assert isinstance(stations, list)
    return Pivoted(int(str(rows)), int(str(flagged)), frozenset(map(str, stations)))


def _count(conn: Connection, statement: str) -> int:
    row = conn.execute(statement).fetchone()
    return int(str(row[0])) if row and row[0] is not None else 0
