"""Apply the versioned SQL files in ``warehouse/migrations`` in order.

Each file runs in its own transaction and is recorded in
``schema_migration`` with its checksum. A session-level advisory lock makes
concurrent runs (two pods starting at once) safe: the second waits, then
finds nothing to do. A failed file is rolled back whole, so the schema stays
at the previous version.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources

import psycopg

from warehouse.db import MIGRATION_LOCK_KEY
from warehouse.errors import DatabaseUnavailable, MigrationFailed, first_line

log = logging.getLogger(__name__)

_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

_CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migration (
    version    integer PRIMARY KEY,
    name       text        NOT NULL,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True)
class Migration:
    """One SQL file: ``NNNN_name.sql``."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available() -> list[Migration]:
    """Every migration shipped with the package, in version order."""
    found = []
    for entry in resources.files("warehouse.migrations").iterdir():
        match = _FILE_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationFailed(f"two migration files share a version: {versions}")
    return found


def applied(conn: psycopg.Connection[tuple[object, ...]]) -> dict[int, str]:
    """Version -> checksum of the migrations recorded in the database."""
    rows = conn.execute("SELECT version, checksum FROM schema_migration").fetchall()
    return {int(str(v)): str(c) for v, c in rows}


def migrate(conn: psycopg.Connection[tuple[object, ...]]) -> list[Migration]:
    """Bring the schema up to date; return the migrations applied now.

    ``conn`` must be in autocommit mode: each migration opens its own
    transaction, and the advisory lock lives on the session. Any database
    error becomes :class:`MigrationFailed` (the connection lost:
    :class:`DatabaseUnavailable`), so that the caller reports one line.
    """
    if not conn.autocommit:
        raise ValueError("migrate() needs an autocommit connection")
    try:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        try:
            return _migrate_locked(conn)
        finally:
            if not conn.broken:
                conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(f"lost the database while migrating: {first_line(exc)}") from None
    except psycopg.Error as exc:
        hint = ""
        if isinstance(exc, psycopg.errors.InsufficientPrivilege):
            hint = " (run migrate as the role that owns the schema and its tables)"
        raise MigrationFailed(
            f"the schema cannot be brought up to date as role {conn.info.user!r}: "
            f"{first_line(exc)}{hint}"
        ) from None


def _migrate_locked(conn: psycopg.Connection[tuple[object, ...]]) -> list[Migration]:
    found = conn.execute("SELECT to_regclass('schema_migration') IS NOT NULL").fetchone()
    if not (found and found[0]):
        # Created only when missing: a role that may read the ledger but not
        # create tables learns that the schema is current.
        conn.execute(_CREATE_LEDGER)
    done = applied(conn)
    newly: list[Migration] = []
    for migration in available():
        recorded = done.get(migration.version)
        if recorded is None:
            _apply(conn, migration)
            newly.append(migration)
        elif recorded != migration.checksum:
            raise MigrationFailed(
                f"migration {migration.version:04d}_{migration.name}.sql was changed "
                "after it was applied; add a new migration instead"
            )
    return newly


def _apply(conn: psycopg.Connection[tuple[object, ...]], migration: Migration) -> None:
    label = f"{migration.version:04d}_{migration.name}.sql"
    try:
        with conn.transaction():
            # The SQL comes from files shipped in the package, never from input.
            conn.execute(migration.sql.encode())
            conn.execute(
                "INSERT INTO schema_migration (version, name, checksum) VALUES (%s, %s, %s)",
                (migration.version, migration.name, migration.checksum),
            )
    except psycopg.Error as exc:
        raise MigrationFailed(f"{label} failed and was rolled back: {first_line(exc)}") from None
    log.info("migration applied", extra={"migration": label})
