"""One exception family for the whole warehouse.

Each error carries the process exit code a job ends with and the HTTP status
the API answers with, so that the command line and the API report the same
failure the same way. Messages are written for the operator and never hold a
password.
"""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path


class ExitCode(IntEnum):
    """Process exit codes of every ``weather-warehouse`` command (see the README)."""

    OK = 0
    FILES_REJECTED = 1
    CONFIG = 2
    LOCK_HELD = 3
    SOURCE_UNREACHABLE = 4
    MIGRATION_FAILED = 5
    INTERNAL = 70
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
    TERMINATED = 143  # SIGTERM (128 + SIGTERM): Kubernetes stopping the pod


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


class DatabaseTimeout(DatabaseUnavailable):
    """The database did not answer in time (frozen, partitioned, or overloaded)."""

    title = "Database timeout"


class MigrationFailed(WarehouseError):
    """A migration failed; the schema stays at the previous version."""

    exit_code = ExitCode.MIGRATION_FAILED
    title = "Migration failed"


class SourceUnreachable(WarehouseError):
    """An ingest source (a folder, a bucket) cannot be listed or read."""

    exit_code = ExitCode.SOURCE_UNREACHABLE
    http_status = 502
    title = "Source unreachable"


def first_line(exc: BaseException) -> str:
    """The first non-empty line of an exception's message, or its type's name.

    Database and OS errors carry hints and context on later lines; an
    operator's one-line message needs only the first.
    """
    for line in str(exc).splitlines():
        if line.strip():
            return line.strip()
    return type(exc).__name__


def read_secret_file(path: Path, setting: str) -> str:
    """The secret held in ``path`` (a mounted Kubernetes Secret), without surrounding blanks.

    ``setting`` names the variable that pointed there, for the message when
    the file cannot be read; the message never holds the file's content.
    """
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{setting} {path} cannot be read: {exc.strerror}") from None


def first_of(items: list[str], shown: int, more: str) -> str:
    """The first ``shown`` items, one per line, then ``... and N more <more>`` if any are left."""
    text = "\n".join(items[:shown])
    if len(items) > shown:
        text += f"\n... and {len(items) - shown} more {more}"
    return text
