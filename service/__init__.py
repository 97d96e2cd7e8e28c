"""The HTTP API over the warehouse (Starlette)."""
