"""The ``.dly`` statements of :mod:`ingest_job.pivot`: cut lines in, observation rows out.

:mod:`ingest_job.formats.dly_cells` cuts each line into its head (station,
year, month, element) and each day's value and quality flag; COPY reads them
into ``raw_dly``, one row per line (values as integers: COPY refuses what is
not one, which sends the file to its Python parser). One statement then
groups the lines by station-month (a hash aggregate of 36,000 months for 100
stations of 30 years, not of 4.4 million day values), takes each kept
element's 31 values as one array, checks the month as the Python parser
would, and unnests the arrays into days as they are written.
"""

from __future__ import annotations

_DAYS = range(1, 32)

# One row per line; "char" is one byte, no length header.
RAW_DLY = (
    "CREATE TEMP TABLE IF NOT EXISTS raw_dly (id text, year text, month text, element text, "
    + ", ".join(f'v{day} integer, q{day} "char"' for day in _DAYS)
    + ") ON COMMIT DELETE ROWS"
)

# One field per cut: dly_cells writes tab-separated rows with no backslash.
COPY = "COPY raw_dly FROM STDIN"

# A day's value, kept when it is not missing and has no quality flag.
KEPT = ",\n               ".join(
    f"CASE WHEN q{day} = ' ' AND v{day} <> -9999 THEN v{day} END" for day in _DAYS
)
# The line's values NOAA flagged (counted, not loaded).
_FLAGGED = "\n           + ".join(f"(q{day} <> ' ' AND v{day} <> -9999)::int" for day in _DAYS)

# One pass over the lines: a hash aggregate by station-month (the months)
# and by station (each station's totals, handed to pg_temp.pivot_station),
# then each month is checked as it comes out and unnested into its days,
# or the statement raises.
#
# The checks, as formats/ghcn_dly.py makes them (every line is 269 plain
# characters, dly_cells.py): a station id has no space and does not open
# with "-"; a year is 1000-9999 and a month 01-12, as digits; an element kept
# is given once per month (more lines of kept elements than elements); a day
# past the month's end holds -9999 (the last day with a value, of days 29 to
# 31, against the month's length); a value out of its column's range raises
# in the INSERT. A clean file's days past the month are -9999, so its
# arrays hold NULL there and no row comes of them.
PIVOT = """
WITH line AS (
    SELECT id, year, month,
           CASE element WHEN 'TMAX' THEN 1 WHEN 'TMIN' THEN 2 WHEN 'PRCP' THEN 4 ELSE 0 END AS e,
           ARRAY[<kept>] AS kept,
           <flagged> AS flagged,
           CASE WHEN v31 <> -9999 THEN 31 WHEN v30 <> -9999 THEN 30
                WHEN v29 <> -9999 THEN 29 ELSE 0 END AS last_day
    FROM raw_dly OFFSET 0
), month AS (
    SELECT id, year, month, grouping(year) = 1 AS station_total,
           max(kept) FILTER (WHERE e = 1) AS tmax,
           max(kept) FILTER (WHERE e = 2) AS tmin,
           max(kept) FILTER (WHERE e = 4) AS prcp,
           count(*) FILTER (WHERE e > 0) AS kept_lines,
           coalesce(bit_or(e), 0) AS kept_elements,
           coalesce(sum(flagged) FILTER (WHERE e > 0), 0) AS flagged,
           coalesce(bool_or(array_remove(kept, NULL) <> '{}') FILTER (WHERE e > 0), false)
               AS has_rows,
           coalesce(max(last_day) FILTER (WHERE e > 0), 0) AS last_day
    FROM line GROUP BY GROUPING SETS ((id, year, month), (id))
), checked AS (
    SELECT id, year, month, tmax, tmin, prcp FROM month WHERE CASE
        WHEN station_total AND (position(' ' IN id) > 0 OR ascii(id) = 45)
            THEN pg_temp.pivot_refuse(id, NULL)
        WHEN station_total
            THEN pg_temp.pivot_station(id, flagged, has_rows)
        WHEN year || month !~ '^[1-9][0-9]{3}(0[1-9]|1[0-2])$'
             OR kept_lines <> (kept_elements & 1) + (kept_elements >> 1 & 1) + (kept_elements >> 2)
            THEN pg_temp.pivot_refuse(id, year || month)
        WHEN last_day > 28 AND make_date(year::int, month::int, last_day) IS NULL
            THEN false  -- make_date raises at a day the month does not have
        ELSE true
    END
    -- Months in key order (36,000 rows to sort, not 1.1 M days): the days
    -- come out in the primary key's order, which the key's build (bulk.py)
    -- then finds sorted, and later reads find in the order of the heap
    -- (measured, 100 stations x 30 years, load 1: the key 0.27 s against
    -- 0.61 s, for 0.08 s more in this statement).
    ORDER BY id, year, month
)
INSERT INTO {target} (station_id, obs_date, tmax_tenths_c, tmin_tenths_c, prcp_tenths_mm)
SELECT c.id, make_date(c.year::int, c.month::int, 1) + (d.day::int - 1), d.tmax, d.tmin, d.prcp
FROM checked c, unnest(c.tmax, c.tmin, c.prcp) WITH ORDINALITY AS d(tmax, tmin, prcp, day)
WHERE CASE
    WHEN d.prcp < 0 THEN pg_temp.pivot_refuse(c.id, c.year || c.month)
    ELSE coalesce(d.tmax, d.tmin, d.prcp) IS NOT NULL
END
""".replace("<kept>", KEPT).replace("<flagged>", _FLAGGED)
