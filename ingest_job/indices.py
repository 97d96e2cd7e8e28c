"""Climate and crop-season indices per station and year, computed in the database.

The ETCCDI core indices (FD, SU, ID, TR, TXx, TXn, TNx, TNn, DTR, Rx1day,
Rx5day, SDII, R10mm, R20mm, CDD, CWD, PRCPTOT), corn growing degree days by
the 86/50 method and the precipitation of 1 May - 30 September, and the
last spring and first autumn frost, as xclim's yearly indicators compute
them (docs/indices.md). One statement per recomputation: a window over each
station's days gives the 5-day totals and the dry and wet runs
(gaps-and-islands), one GROUP BY the rest. Values are exact numerics in
degC and mm; an index is NULL when its year (season) misses more than 15
days of a variable it reads.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from warehouse.tracing import traced

Connection = psycopg.Connection[tuple[object, ...]]

# More missing days than this in a year (or the season) nulls an index:
# the rule of ETCCDI's climdex for yearly indices.
MAX_MISSING_DAYS = 15

# The indices, in the column order of weather_indices.
INDICES = ("fd", "su", "id", "tr", "txx", "txn", "tnx", "tnn", "dtr", "rx1day", "rx5day",
           "sdii", "r10mm", "r20mm", "cdd", "cwd", "prcptot", "gdd", "season_prcp",
           "last_spring_frost", "first_autumn_frost")  # fmt: skip
DAY_COUNTS = ("tx_days", "tn_days", "dtr_days", "pr_days", "gdd_days", "season_pr_days")

# {days}: rows (station_id, year, obs_date, in_year, tx, tn, pr) in tenths,
# where year is the index year a row counts for and in_year is false for
# the four days before 1 January that only Rx5day reads. {window}: what
# the 5-day window is partitioned by. Thresholds are in tenths: 1 mm = 10.
#
# Only Rx5day needs the days in order (a window: PostgreSQL runs windows in
# one process). Everything else is one GROUP BY, which runs in parallel:
# the dry and wet runs too, from a bitmap of each station-year's dry (wet)
# days, bit N for the year's day N, whose longest run of ones is CDD (CWD).
# A missing day is a zero, and the year's edge ends a run (xclim's rule).
# (Measured on 1.1 M days: the two windows of the runs and the 5-day
# totals took 1.6 s; the bitmaps take 0.25 s, the lone window 0.85 s.)
_FIGURES = """
CREATE TEMP TABLE index_figures ON COMMIT DROP AS
WITH f AS (
    SELECT station_id, year,
           make_date(year + 1, 1, 1) - make_date(year, 1, 1) AS year_days,
           count(*) FILTER (WHERE tn < 0)    AS fd,
           count(*) FILTER (WHERE tx > 250)  AS su,
           count(*) FILTER (WHERE tx < 0)    AS id,
           count(*) FILTER (WHERE tn > 200)  AS tr,
           max(tx) / 10.0 AS txx, min(tx) / 10.0 AS txn,
           max(tn) / 10.0 AS tnx, min(tn) / 10.0 AS tnn,
           avg(tx - tn) / 10 AS dtr,
           max(pr) / 10.0 AS rx1day,
           sum(pr) FILTER (WHERE pr >= 10)::numeric
               / nullif(count(*) FILTER (WHERE pr >= 10), 0) / 10 AS sdii,
           count(*) FILTER (WHERE pr >= 100) AS r10mm,
           count(*) FILTER (WHERE pr >= 200) AS r20mm,
           coalesce(sum(pr) FILTER (WHERE pr >= 10), 0) / 10.0 AS prcptot,
           -- 86/50: TX capped at 30 degC, TN floored at 10 degC, base 10 degC;
           -- least and greatest skip NULLs, so a day needs both values
           coalesce(sum(greatest(0, least(tx, 300) + greatest(tn, 100) - 200))
                    FILTER (WHERE tx IS NOT NULL AND tn IS NOT NULL AND in_season), 0)
               / 20.0 AS gdd,
           coalesce(sum(pr) FILTER (WHERE in_season), 0) / 10.0 AS season_prcp,
           -- 1 July belongs to both halves (xclim's before_date and after_date)
           max(obs_date) FILTER (WHERE tn <= 0 AND spring) AS last_spring_frost,
           min(obs_date) FILTER (WHERE tn <= 0 AND obs_date >= make_date(year, 7, 1))
               AS first_autumn_frost,
           count(tx) AS tx_days, count(tn) AS tn_days, count(tx - tn) AS dtr_days,
           count(pr) AS pr_days,
           count(tx + tn) FILTER (WHERE in_season) AS gdd_days,
           count(pr) FILTER (WHERE in_season) AS season_pr_days,
           bit_or(B'1'::bit(366) >> day) FILTER (WHERE pr < 10) AS dry,
           bit_or(B'1'::bit(366) >> day) FILTER (WHERE pr >= 10) AS wet
    -- Year first: grouped by station first, the planner sorted every day
    -- again (it cannot tell the days' order is also the station-years').
    FROM (SELECT *, obs_date - make_date(year, 1, 1) AS day,
                 obs_date BETWEEN make_date(year, 5, 1) AND make_date(year, 9, 30) AS in_season,
                 obs_date <= make_date(year, 7, 1) AS spring
          FROM {days} WHERE in_year) kinds
    GROUP BY year, station_id
),
r AS (
    SELECT station_id, year, max(pr5) / 10.0 AS rx5day
    FROM (SELECT station_id, year, in_year,
                 -- the 5 days ending here, when all are there (a missing value
                 -- makes the sum NULL: xclim's skipna=False); lags, unlike a
                 -- RANGE frame's sum, need no aggregate state
                 CASE WHEN lag(obs_date, 4) OVER w = obs_date - 4
                      THEN pr + lag(pr, 1) OVER w + lag(pr, 2) OVER w + lag(pr, 3) OVER w
                           + lag(pr, 4) OVER w
                 END AS pr5
          FROM {days} WINDOW w AS ({window} ORDER BY obs_date)) fives
    WHERE in_year
    GROUP BY year, station_id
),
m AS (
    SELECT f.*, r.rx5day,
           coalesce((SELECT max(length(run)) FROM regexp_split_to_table(dry::text, '0+') run), 0)
               AS cdd,
           coalesce((SELECT max(length(run)) FROM regexp_split_to_table(wet::text, '0+') run), 0)
               AS cwd,
           f.year_days - f.tx_days > {most} AS tx_short,
           f.year_days - f.tn_days > {most} AS tn_short,
           f.year_days - f.pr_days > {most} AS pr_short,
           153 - f.gdd_days > {most} AS gdd_short,
           153 - f.season_pr_days > {most} AS season_pr_short
    FROM f JOIN r USING (station_id, year)
)
SELECT station_id, year,
       CASE WHEN NOT tn_short THEN fd END AS fd,
       CASE WHEN NOT tx_short THEN su END AS su,
       CASE WHEN NOT tx_short THEN id END AS id,
       CASE WHEN NOT tn_short THEN tr END AS tr,
       CASE WHEN NOT tx_short THEN txx END AS txx,
       CASE WHEN NOT tx_short THEN txn END AS txn,
       CASE WHEN NOT tn_short THEN tnx END AS tnx,
       CASE WHEN NOT tn_short THEN tnn END AS tnn,
       CASE WHEN NOT (tx_short OR tn_short) THEN dtr END AS dtr,
       CASE WHEN NOT pr_short THEN rx1day END AS rx1day,
       CASE WHEN NOT pr_short THEN rx5day END AS rx5day,
       CASE WHEN NOT pr_short THEN sdii END AS sdii,
       CASE WHEN NOT pr_short THEN r10mm END AS r10mm,
       CASE WHEN NOT pr_short THEN r20mm END AS r20mm,
       CASE WHEN NOT pr_short THEN cdd END AS cdd,
       CASE WHEN NOT pr_short THEN cwd END AS cwd,
       CASE WHEN NOT pr_short THEN prcptot END AS prcptot,
       CASE WHEN NOT gdd_short THEN gdd END AS gdd,
       CASE WHEN NOT season_pr_short THEN season_prcp END AS season_prcp,
       CASE WHEN NOT tn_short THEN last_spring_frost END AS last_spring_frost,
       CASE WHEN NOT tn_short THEN first_autumn_frost END AS first_autumn_frost,
       tx_days, tn_days, dtr_days, pr_days, gdd_days, season_pr_days
FROM m
"""

# Every station-year: each station's days in one window, across its years.
_ALL_DAYS = """(SELECT station_id, extract(year FROM obs_date)::smallint AS year,
        obs_date, true AS in_year, tmax_tenths_c AS tx, tmin_tenths_c AS tn,
        prcp_tenths_mm AS pr
 FROM {table}) AS days"""


def all_figures(table: str = "observation") -> sql.Composed:
    """The statement that computes every station-year's indices of ``table`` into ``index_figures``.

    ``bench/indices.py`` runs it on its floor's table.
    """
    days = sql.SQL(_ALL_DAYS).format(table=sql.Identifier(table))
    return _figures(days, "PARTITION BY station_id")


# The touched station-years, and the year after a touched December (its
# Rx5day reads the last four days of the year before), each with those days.
_INDEX_YEARS = """
CREATE TEMP TABLE index_year ON COMMIT DROP AS
SELECT station_id, year FROM touched_year
UNION
SELECT station_id, extract(year FROM month)::smallint + 1 FROM touched_month
WHERE extract(month FROM month) = 12
"""

_TOUCHED_DAYS = sql.SQL("""(SELECT t.station_id, t.year, o.obs_date,
        o.obs_date >= make_date(t.year, 1, 1) AS in_year,
        o.tmax_tenths_c AS tx, o.tmin_tenths_c AS tn, o.prcp_tenths_mm AS pr
 FROM index_year t
 JOIN observation o
   ON o.station_id = t.station_id
  AND o.obs_date >= make_date(t.year, 1, 1) - 4
  AND o.obs_date <  make_date(t.year + 1, 1, 1)) AS days""")


def _figures(days: sql.Composable, window: str) -> sql.Composed:
    return sql.SQL(_FIGURES).format(
        days=days, window=sql.SQL(window), most=sql.Literal(MAX_MISSING_DAYS)
    )


_COLUMNS = ("station_id", "year", *INDICES, *DAY_COUNTS)

_UPSERT = sql.SQL("""
INSERT INTO weather_indices ({columns}, computed_at)
SELECT {columns}, now() FROM index_figures
ON CONFLICT (station_id, year) DO UPDATE SET {updates}
""").format(
    columns=sql.SQL(", ").join(map(sql.Identifier, _COLUMNS)),
    updates=sql.SQL(", ").join(
        sql.SQL("{0} = excluded.{0}").format(sql.Identifier(c))
        for c in (*INDICES, *DAY_COUNTS, "computed_at")
    ),
)

# Compiling this statement costs seconds (measured: 3 s of 30 under load)
# and saves less: PostgreSQL's JIT is off for the rest of the transaction.
_NO_JIT = "SET LOCAL jit = off"

# Every station-year, into the emptied table in key order (see stats._refill).
_REFILL = sql.SQL("""
INSERT INTO weather_indices ({columns}, computed_at)
SELECT {columns}, now() FROM index_figures ORDER BY station_id, year
""").format(columns=sql.SQL(", ").join(map(sql.Identifier, _COLUMNS)))


@traced("ingest.indices")
def recompute_touched(conn: Connection) -> int:
    """Recompute the indices of the station-years in ``touched_year`` (and after December).

    Returns how many station-years were written. Call inside the
    transaction that loaded them.
    """
    conn.execute(_NO_JIT)
    conn.execute(_INDEX_YEARS)
    conn.execute(_figures(_TOUCHED_DAYS, "PARTITION BY station_id, year"))
    count = conn.execute(_UPSERT).rowcount
    conn.execute("DROP TABLE index_figures, index_year")
    return count


@traced("ingest.indices")
def recompute_all(conn: Connection) -> int:
    """Recompute the indices of every station-year and drop those without rows.

    Returns how many station-years. Call inside a transaction.
    """
    conn.execute(_NO_JIT)
    conn.execute(all_figures())
    conn.execute("DELETE FROM weather_indices")
    count = conn.execute(_REFILL).rowcount
    conn.execute("DROP TABLE index_figures")
    return count
