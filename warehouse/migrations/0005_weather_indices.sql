-- 0005: climate and crop-season indices per station and year (docs/indices.md).
--
-- The ETCCDI core indices, corn growing degree days and the season's
-- precipitation (1 May - 30 September), the last spring and first autumn
-- frost, computed by the ingest job (ingest_job/indices.py) with the yearly
-- statistics, for the station-years a run touched. Values in degC, mm and
-- days, exact (numeric); an index is NULL when its year (or season) has more
-- than 15 missing days of a variable it reads. The *_days columns count the
-- days present behind the indices.
CREATE TABLE weather_indices (
    station_id          text     NOT NULL,
    year                smallint NOT NULL,
    fd                  integer,
    su                  integer,
    id                  integer,
    tr                  integer,
    txx                 numeric,
    txn                 numeric,
    tnx                 numeric,
    tnn                 numeric,
    dtr                 numeric,
    rx1day              numeric,
    rx5day              numeric,
    sdii                numeric,
    r10mm               integer,
    r20mm               integer,
    cdd                 integer,
    cwd                 integer,
    prcptot             numeric,
    gdd                 numeric,
    season_prcp         numeric,
    last_spring_frost   date,
    first_autumn_frost  date,
    tx_days             integer  NOT NULL,
    tn_days             integer  NOT NULL,
    dtr_days            integer  NOT NULL,
    pr_days             integer  NOT NULL,
    gdd_days            integer  NOT NULL,
    season_pr_days      integer  NOT NULL,
    computed_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT weather_indices_pkey PRIMARY KEY (station_id, year)
);
-- The yield view reads a year across stations.
CREATE INDEX weather_indices_year_idx ON weather_indices (year, station_id);

-- The triggers of 0002 also clear the indices of removed rows; the next
-- ingest run recomputes them (and the year after a touched December: its
-- Rx5day reads the last days of the year before).
CREATE OR REPLACE FUNCTION observation_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM weather_stats;
    DELETE FROM monthly_stats;
    DELETE FROM weather_indices;
    DELETE FROM stale_station_month;
    UPDATE station SET first_date = NULL, last_date = NULL, observation_count = 0,
                       updated_at = now()
     WHERE observation_count <> 0 OR first_date IS NOT NULL;
    UPDATE ingest_file SET rows_removed_at = clock_timestamp()
     WHERE status = 'loaded' AND stations IS NOT NULL AND rows_removed_at IS NULL;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION observation_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    emptied text[] := (SELECT array_agg(DISTINCT station_id) FROM gone);
BEGIN
    IF emptied IS NULL THEN
        RETURN NULL;  -- the statement deleted nothing
    END IF;
    UPDATE station s
       SET first_date = t.first_date, last_date = t.last_date, observation_count = t.days,
           updated_at = now()
      FROM (SELECT c.station_id, min(o.obs_date) AS first_date,
                   max(o.obs_date) AS last_date, count(o.obs_date) AS days
              FROM unnest(emptied) AS c (station_id)
              LEFT JOIN observation o ON o.station_id = c.station_id
             GROUP BY c.station_id) t
     WHERE s.station_id = t.station_id;
    INSERT INTO stale_station_month (station_id, month)
    SELECT DISTINCT station_id, date_trunc('month', obs_date)::date FROM gone
    ON CONFLICT DO NOTHING;
    DELETE FROM weather_stats w USING stale_station_month m
     WHERE w.station_id = m.station_id AND w.year = extract(year FROM m.month);
    DELETE FROM monthly_stats w USING stale_station_month m
     WHERE w.station_id = m.station_id AND w.year = extract(year FROM m.month)
       AND w.month = extract(month FROM m.month);
    DELETE FROM weather_indices w USING stale_station_month m
     WHERE w.station_id = m.station_id AND w.year = extract(year FROM m.month);
    UPDATE ingest_file SET rows_removed_at = clock_timestamp()
     WHERE status = 'loaded' AND rows_removed_at IS NULL AND stations && emptied;
    RETURN NULL;
END
$$;

-- Databases loaded before this migration: the next ingest run computes the
-- indices of every station-year they hold, by the path that recomputes
-- what a DELETE left stale (ingest_job.stats.recompute_stale).
INSERT INTO stale_station_month (station_id, month)
SELECT station_id, make_date(year, 1, 1) FROM weather_stats
ON CONFLICT DO NOTHING;
