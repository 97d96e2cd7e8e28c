-- 0002: derived data and the ledger follow the observations, whatever removes
-- them; the audit says how each run ended.
--
-- The ingest job is not the only writer: an operator may TRUNCATE or DELETE
-- observations (the README's reload procedure empties the table). Triggers
-- keep what is derived from them true at once, in the same transaction:
-- station totals, yearly statistics, and the ledger's claim that a file is
-- loaded, so that the next run loads its rows again instead of skipping it.

-- The exit code the ingest command ended with (NULL while the run is going,
-- and for runs recorded before this column existed).
ALTER TABLE ingest_run ADD COLUMN exit_code smallint;

-- The stations whose observations a loaded file carried (NULL for files of
-- other tables), and when rows it had loaded were removed by something else
-- than the job: such a file is not skipped as unchanged any more.
ALTER TABLE ingest_file ADD COLUMN stations text[];
ALTER TABLE ingest_file ADD COLUMN rows_removed_at timestamptz;
CREATE INDEX ingest_file_stations_idx ON ingest_file USING gin (stations)
    WHERE status = 'loaded' AND rows_removed_at IS NULL;

-- Station-months (their first day) that lost some of their rows: their
-- monthly and yearly statistics were removed with the rows, and the next
-- ingest run recomputes them from what is left.
CREATE TABLE stale_station_month (
    station_id text NOT NULL,
    month      date NOT NULL,
    PRIMARY KEY (station_id, month)
);

-- The trigger functions also keep monthly_stats, which 0003 creates:
-- PL/pgSQL resolves a table when a statement first runs, not when the
-- function is created, and migrate applies 0002 and 0003 together.

CREATE FUNCTION observation_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM weather_stats;
    DELETE FROM monthly_stats;
    DELETE FROM stale_station_month;
    UPDATE station SET first_date = NULL, last_date = NULL, observation_count = 0,
                       updated_at = now()
     WHERE observation_count <> 0 OR first_date IS NOT NULL;
    UPDATE ingest_file SET rows_removed_at = clock_timestamp()
     WHERE status = 'loaded' AND stations IS NOT NULL AND rows_removed_at IS NULL;
    RETURN NULL;
END
$$;

CREATE TRIGGER observation_truncated AFTER TRUNCATE ON observation
    FOR EACH STATEMENT EXECUTE FUNCTION observation_truncated();

CREATE FUNCTION observation_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
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
    UPDATE ingest_file SET rows_removed_at = clock_timestamp()
     WHERE status = 'loaded' AND rows_removed_at IS NULL AND stations && emptied;
    RETURN NULL;
END
$$;

CREATE TRIGGER observation_deleted AFTER DELETE ON observation
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION observation_deleted();

-- The yield series: any removal sends its files back to be loaded.
CREATE FUNCTION crop_yield_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ingest_file SET rows_removed_at = clock_timestamp()
     WHERE status = 'loaded' AND format = 'yield_txt' AND rows_removed_at IS NULL;
    RETURN NULL;
END
$$;

CREATE TRIGGER crop_yield_removed AFTER TRUNCATE OR DELETE ON crop_yield
    FOR EACH STATEMENT EXECUTE FUNCTION crop_yield_removed();

-- Databases loaded before this migration: name the station of each loaded
-- observation file after its file name (<STATION_ID>.txt|.dly|.csv; a wrong
-- guess only makes the file load once more), and make the station totals
-- exact (a reload after TRUNCATE used to add to the old counts).
UPDATE ingest_file
   SET stations = ARRAY[regexp_replace(uri, '^.*/|\.[^./]*$', '', 'g')]
 WHERE status = 'loaded' AND format IN ('station_txt', 'ghcn_dly', 'ghcn_csv');

UPDATE station s
   SET first_date = t.first_date, last_date = t.last_date, observation_count = t.days,
       updated_at = now()
  FROM (SELECT s2.station_id, min(o.obs_date) AS first_date, max(o.obs_date) AS last_date,
               count(o.obs_date) AS days
          FROM station s2 LEFT JOIN observation o ON o.station_id = s2.station_id
         GROUP BY s2.station_id) t
 WHERE s.station_id = t.station_id
   AND (s.first_date, s.last_date, s.observation_count)
       IS DISTINCT FROM (t.first_date, t.last_date, t.days);

DELETE FROM weather_stats w
 WHERE NOT EXISTS (SELECT 1 FROM observation o
                    WHERE o.station_id = w.station_id
                      AND o.obs_date >= make_date(w.year, 1, 1)
                      AND o.obs_date < make_date(w.year + 1, 1, 1));
