-- 0002: an audit that says what the database holds and how the process ended.

-- The exit code the ingest command ended with (NULL while the run is going,
-- and for runs recorded before this column existed).
ALTER TABLE ingest_run ADD COLUMN exit_code smallint;
