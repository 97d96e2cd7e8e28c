-- 0001: the warehouse schema.
--
-- Values are stored as the sources give them: temperatures in tenths of a
-- degree Celsius, precipitation in tenths of a millimetre, NULL = missing.
-- They are converted only at the edge (the API).

-- Stations. Names and coordinates come from the GHCN inventory when it has
-- been ingested; first/last date and the row count are kept by the loader so
-- that the API's station list never scans the observations.
CREATE TABLE station (
    station_id        text PRIMARY KEY
                      CHECK (station_id ~ '^[A-Z0-9][A-Z0-9_-]{0,31}$'),
    name              text,
    state             text,
    latitude          double precision CHECK (latitude BETWEEN -90 AND 90),
    longitude         double precision CHECK (longitude BETWEEN -180 AND 180),
    elevation_m       double precision,
    first_date        date,
    last_date         date,
    observation_count bigint NOT NULL DEFAULT 0,
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- Daily observations. The primary key (station_id, obs_date) serves every
-- API query: filter by station and date range, keyset pagination in key
-- order. There is deliberately no foreign key to station: the loader writes
-- the station row in the same transaction, and a per-row FK check would
-- roughly double the cost of a bulk load. Narrow types keep rows small
-- (smallint holds +-3276.7 degC; precipitation can exceed 3276.7 mm only in
-- a multi-day total, but integer costs nothing here thanks to alignment).
CREATE TABLE observation (
    station_id     text     NOT NULL,
    obs_date       date     NOT NULL,
    tmax_tenths_c  smallint,
    tmin_tenths_c  smallint,
    prcp_tenths_mm integer  CHECK (prcp_tenths_mm >= 0),
    CONSTRAINT observation_pkey PRIMARY KEY (station_id, obs_date)
);

-- Yearly corn grain yield for the United States, as the yield file gives it
-- (thousands of metric tons).
CREATE TABLE crop_yield (
    year              smallint PRIMARY KEY CHECK (year BETWEEN 1000 AND 9999),
    corn_yield_kt     bigint   NOT NULL CHECK (corn_yield_kt >= 0)
);

-- Yearly statistics per station-year, computed exactly (numeric) from the
-- observations; NULL when a figure has no value at all in the year. The day
-- counts say how many observed days stand behind each figure.
CREATE TABLE weather_stats (
    station_id       text     NOT NULL,
    year             smallint NOT NULL,
    avg_max_temp_c   numeric,
    avg_min_temp_c   numeric,
    total_precip_cm  numeric,
    max_temp_days    integer  NOT NULL,
    min_temp_days    integer  NOT NULL,
    precip_days      integer  NOT NULL,
    computed_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT weather_stats_pkey PRIMARY KEY (station_id, year)
);
-- Queries by year across all stations ("every station in 1990").
CREATE INDEX weather_stats_year_idx ON weather_stats (year, station_id);

-- One row per ingest run: what was asked, what happened.
CREATE TABLE ingest_run (
    run_id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source          text        NOT NULL,
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    status          text        NOT NULL DEFAULT 'running'
                    CHECK (status IN ('running', 'succeeded', 'failed')),
    files_seen      integer     NOT NULL DEFAULT 0,
    files_loaded    integer     NOT NULL DEFAULT 0,
    files_skipped   integer     NOT NULL DEFAULT 0,
    files_rejected  integer     NOT NULL DEFAULT 0,
    rows_inserted   bigint      NOT NULL DEFAULT 0,
    rows_updated    bigint      NOT NULL DEFAULT 0,
    rows_rejected   bigint      NOT NULL DEFAULT 0,
    values_rejected_qc bigint   NOT NULL DEFAULT 0,
    error           text,
    CHECK (finished_at IS NULL OR finished_at >= started_at)
);
-- The API's ETag / Last-Modified and the freshness metric read the latest
-- finished run.
CREATE INDEX ingest_run_finished_idx ON ingest_run (finished_at DESC)
    WHERE finished_at IS NOT NULL;

-- One row per file a run looked at.
CREATE TABLE ingest_file (
    file_id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id          bigint      NOT NULL REFERENCES ingest_run (run_id) ON DELETE CASCADE,
    uri             text        NOT NULL,
    format          text,
    size_bytes      bigint      CHECK (size_bytes >= 0),
    checksum        text,
    status          text        NOT NULL
                    CHECK (status IN ('loaded', 'skipped', 'rejected', 'failed')),
    rows_read       bigint      NOT NULL DEFAULT 0,
    rows_inserted   bigint      NOT NULL DEFAULT 0,
    rows_updated    bigint      NOT NULL DEFAULT 0,
    rows_rejected   bigint      NOT NULL DEFAULT 0,
    values_rejected_qc bigint   NOT NULL DEFAULT 0,
    error           text,
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz
);
CREATE INDEX ingest_file_run_idx ON ingest_file (run_id);
-- "Has this exact content been loaded from this URI before?" (idempotency).
CREATE INDEX ingest_file_loaded_idx ON ingest_file (uri, checksum) WHERE status = 'loaded';
