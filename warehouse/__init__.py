"""What the ingest job and the API share: settings, database access, schema, errors, logs."""
