"""One exception family for the whole warehouse.

Each error carries the process exit code a job ends with and the HTTP status
the API answers with, so that the command line and the API report the same
failure the same way. Messages are written for the operator and never hold a
password.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes of every ``weather-warehouse`` command (see the README)."""

    OK = 0
    FILES_REJECTED = 1
    CONFIG = 2
    LOCK_HELD = 3
    SOURCE_UNREACHABLE = 4
    MIGRATION_FAILED = 5
    INTERNAL = 70


class WarehouseError(Exception):
    """Base of every expected failure: a one-line message, an exit code, an HTTP status."""

    exit_code: ExitCode = ExitCode.INTERNAL
    http_status: int = 500
    title: str = "Internal Server Error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(WarehouseError):
    """The configuration is missing or wrong (a setting, a secret file, a usage error)."""

    exit_code = ExitCode.CONFIG
    title = "Configuration error"


class DatabaseUnavailable(WarehouseError):
    """The database cannot be reached or refused the connection."""

    exit_code = ExitCode.CONFIG
    http_status = 503
    title = "Database unavailable"


class MigrationFailed(WarehouseError):
    """A migration failed; the schema stays at the previous version."""

    exit_code = ExitCode.MIGRATION_FAILED
    title = "Migration failed"


class LockHeld(WarehouseError):
    """Another process holds the advisory lock for this work."""

    exit_code = ExitCode.LOCK_HELD
    http_status = 409
    title = "Busy"


class SourceUnreachable(WarehouseError):
    """An ingest source (a folder, a bucket) cannot be listed or read."""

    exit_code = ExitCode.SOURCE_UNREACHABLE
    http_status = 502
    title = "Source unreachable"
