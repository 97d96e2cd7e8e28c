-- 0004: ingest at catalogue scale: shards, known-bad files, audit retention.
--
-- A shard run (`ingest --shard I/N`) records which shard it was, so that a
-- shard only ever marks its own abandoned runs as failed.
ALTER TABLE ingest_run
    ADD COLUMN shard_index integer CHECK (shard_index >= 0),
    ADD COLUMN shard_count integer CHECK (shard_count >= 1),
    ADD CONSTRAINT ingest_run_shard_check
        CHECK ((shard_index IS NULL) = (shard_count IS NULL) AND shard_index < shard_count);

-- Files rejected with the same checksum as last time are reported without
-- being parsed again: runs count them apart from new rejections.
ALTER TABLE ingest_run ADD COLUMN files_still_rejected integer NOT NULL DEFAULT 0;

-- "What is the latest verdict (loaded or rejected) on this URI?", asked a
-- thousand URIs at a time at the start of every run, and by audit retention.
CREATE INDEX ingest_file_verdict_idx ON ingest_file (uri, file_id DESC)
    WHERE status IN ('loaded', 'rejected');
-- Audit retention deletes old rows by age.
CREATE INDEX ingest_file_started_idx ON ingest_file (started_at);
