"""A PostgreSQL server for the test session, and a fresh database per test.

The schema is migrated once into a template database; each test gets a copy
(``CREATE DATABASE ... TEMPLATE``), which takes milliseconds.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

from command.postgres_server import EmbeddedPostgres
from warehouse import migrate

TEMPLATE = "wh_template"
_counter = itertools.count(1)


@contextmanager
def running_server(base: Path) -> Iterator[EmbeddedPostgres]:
    """Start a server in ``base`` for the session; always stop it."""
    base.chmod(0o755)  # the server may run as another user (tests under root)
    server = EmbeddedPostgres(data_dir=base / "pgdata", fast=True)
    server.start()
    try:
        yield server
    finally:
        server.stop(mode="immediate")


def admin(server: EmbeddedPostgres) -> psycopg.Connection[tuple[object, ...]]:
    """An autocommit superuser connection to the maintenance database."""
    return psycopg.connect(server.url("postgres"), autocommit=True)


def create_template(server: EmbeddedPostgres) -> None:
    """Create the migrated template database that every test copies."""
    with admin(server) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {TEMPLATE}")
        conn.execute(f"CREATE DATABASE {TEMPLATE}")
    with psycopg.connect(server.url(TEMPLATE), autocommit=True) as conn:
        migrate.migrate(conn)


def new_database(server: EmbeddedPostgres, *, migrated: bool = True) -> str:
    """Create a fresh database (migrated, or empty) and return its name."""
    name = f"test_{next(_counter)}"
    template = TEMPLATE if migrated else "template0"
    with admin(server) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    return name


def drop_database(server: EmbeddedPostgres, name: str) -> None:
    """Drop a test database, disconnecting whoever still uses it."""
    with admin(server) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def rows(url: str, query: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Every row of a query against a test database."""
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def one(url: str, query: str, params: tuple[object, ...] = ()) -> object:
    """The single value of a query."""
    (row,) = rows(url, query, params)
    return row[0]


@contextmanager
def table_writer(owner_url: str, role: str) -> Iterator[str]:
    """A role that may read and write the tables but owns none (nor may create any): its URL.

    Dropped afterwards, with whatever it made.
    """
    password = f"{role}-pass-1"
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
            sql.Identifier(role), sql.Literal(password)))  # fmt: skip
        for grant in ("GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO {}",
                      "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {}"):  # fmt: skip
            conn.execute(sql.SQL(grant).format(sql.Identifier(role)))
    try:
        yield owner_url.replace("postgres@", f"{role}:{password}@", 1)
    finally:
        with psycopg.connect(owner_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
