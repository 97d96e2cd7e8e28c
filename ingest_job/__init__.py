"""The ingest job: files from a folder or S3 into PostgreSQL, then yearly statistics."""
