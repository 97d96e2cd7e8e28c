-- 0003: monthly statistics, and the indexes of the station search.

-- Monthly statistics per station-month, computed exactly (numeric) from the
-- observations with the rules of the yearly ones (weather_stats): averages
-- in degC rounded to 6 places, total precipitation in cm (exact at 0.01),
-- NULL when the month has no value at all for a figure, and the number of
-- observed days behind each figure.
CREATE TABLE monthly_stats (
    station_id       text     NOT NULL,
    year             smallint NOT NULL,
    month            smallint NOT NULL CHECK (month BETWEEN 1 AND 12),
    avg_max_temp_c   numeric,
    avg_min_temp_c   numeric,
    total_precip_cm  numeric,
    max_temp_days    integer  NOT NULL,
    min_temp_days    integer  NOT NULL,
    precip_days      integer  NOT NULL,
    computed_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT monthly_stats_pkey PRIMARY KEY (station_id, year, month)
);
-- Queries by year across all stations ("every station in July 1990").
CREATE INDEX monthly_stats_year_idx ON monthly_stats (year, month, station_id);

-- Station search (GET /api/stations/search and /nearest), fast at GHCN
-- scale (~120k stations); see bench/station_search.py for the figures.
-- Id prefix: LIKE 'USC001%' can use a btree only with pattern ops (the
-- primary key follows the database collation).
CREATE INDEX station_id_prefix_idx ON station (station_id text_pattern_ops);
-- Name: every word of the query as a word prefix ('SEATTLE TAC' finds
-- 'SEATTLE TACOMA INTL AP'). Built in (no pg_trgm, which RDS users must
-- be allowed to create).
CREATE INDEX station_name_words_idx ON station
    USING gin (to_tsvector('simple', coalesce(name, '')));
-- Bounding box and nearest: a GiST index of the position (longitude,
-- latitude); stations without coordinates are not in it.
CREATE INDEX station_position_idx ON station
    USING gist (point(longitude, latitude))
    WHERE latitude IS NOT NULL AND longitude IS NOT NULL;

-- Observations loaded before this migration get their monthly figures now
-- (the ingest job keeps them current from here on). One pass over the
-- observations: about a second per 1.7 M rows.
INSERT INTO monthly_stats (station_id, year, month, avg_max_temp_c, avg_min_temp_c,
    total_precip_cm, max_temp_days, min_temp_days, precip_days)
SELECT station_id,
       extract(year FROM obs_date)::smallint,
       extract(month FROM obs_date)::smallint,
       round(avg(tmax_tenths_c) / 10, 6),
       round(avg(tmin_tenths_c) / 10, 6),
       round(sum(prcp_tenths_mm)::numeric / 100, 2),
       count(tmax_tenths_c),
       count(tmin_tenths_c),
       count(prcp_tenths_mm)
FROM observation
GROUP BY 1, 2, 3;
