"""The one flow every list endpoint follows, and its representations: JSON pages, CSV, NDJSON."""
