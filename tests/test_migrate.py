"""Migrations: applied in order, once, safely under concurrency, rolled back on failure."""

from __future__ import annotations

import json
from collections.abc import Iterator

import psycopg
import pytest

from command.postgres_server import EmbeddedPostgres
from ingest_job import ledger
from tests import cli
from tests.harness import postgres
from warehouse import migrate
from warehouse.errors import MigrationFailed

EXPECTED_TABLES = {
    "station", "observation", "crop_yield", "weather_stats", "monthly_stats",
    "ingest_run", "ingest_file", "schema_migration", "stale_station_month",
    "weather_indices",
}  # fmt: skip


def _last_loaded(conn: psycopg.Connection[tuple[object, ...]], uris: list[str]) -> dict[str, str]:
    """URI -> checksum of its latest loaded delivery whose rows are still there."""
    return {
        uri: known.loaded_checksum
        for uri, known in ledger.known_files(conn, uris).items()
        if known.loaded_checksum is not None
    }


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    return {str(r[0]) for r in rows}


def _schema_fingerprint(url: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            """SELECT table_name, column_name, data_type, is_nullable
               FROM information_schema.columns WHERE table_schema = 'public'
               ORDER BY table_name, column_name"""
        ).fetchall()


def test_migrate_creates_every_table_on_an_empty_database(empty_database_url: str) -> None:
    result = cli.run("migrate", env={"DATABASE_URL": empty_database_url})
    assert result.returncode == 0, result.stderr
    assert _tables(empty_database_url) == EXPECTED_TABLES


def test_a_second_migrate_changes_nothing(empty_database_url: str) -> None:
    assert cli.run("migrate", env={"DATABASE_URL": empty_database_url}).returncode == 0
    before = _schema_fingerprint(empty_database_url)
    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        assert migrate.migrate(conn) == []
        versions = conn.execute("SELECT version FROM schema_migration ORDER BY 1").fetchall()
    assert _schema_fingerprint(empty_database_url) == before
    assert [v[0] for v in versions] == [m.version for m in migrate.available()]


def test_two_concurrent_migrates_both_succeed_with_one_schema(empty_database_url: str) -> None:
    env = {"DATABASE_URL": empty_database_url}
    first, second = cli.start("migrate", env=env), cli.start("migrate", env=env)
    outcomes = [p.communicate(timeout=60) for p in (first, second)]
    assert (first.returncode, second.returncode) == (0, 0), outcomes
    assert _tables(empty_database_url) == EXPECTED_TABLES
    with psycopg.connect(empty_database_url) as conn:
        count = conn.execute("SELECT count(*) FROM schema_migration").fetchone()
    assert count == (len(migrate.available()),)


def test_a_failing_migration_is_rolled_back_and_keeps_the_previous_version(
    empty_database_url: str,
) -> None:
    broken = migrate.Migration(9999, "broken", "CREATE TABLE half_done (id int); SELECT 1/0;")
    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        migrate.migrate(conn)
        with pytest.raises(MigrationFailed, match=r"9999_broken\.sql failed .*division by zero"):
            migrate._apply(conn, broken)
        assert 9999 not in migrate.applied(conn)
    assert "half_done" not in _tables(empty_database_url)


def test_an_edited_applied_migration_is_refused(empty_database_url: str) -> None:
    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        migrate.migrate(conn)
        conn.execute("UPDATE schema_migration SET checksum = 'edited' WHERE version = 1")
        with pytest.raises(MigrationFailed, match="was changed after it was applied"):
            migrate.migrate(conn)


def test_migrate_exits_5_when_a_migration_fails(empty_database_url: str) -> None:
    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        migrate.migrate(conn)
        conn.execute("UPDATE schema_migration SET checksum = 'edited' WHERE version = 1")
    result = cli.run("migrate", env={"DATABASE_URL": empty_database_url})
    assert result.returncode == 5
    assert "was changed after it was applied" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def unprivileged_url(pg_server: EmbeddedPostgres, database_url: str) -> Iterator[str]:
    """``database_url`` as a login role that may connect but holds no table privilege."""
    role = f"nopriv_{database_url.rsplit('/', 1)[1]}"
    with psycopg.connect(pg_server.url(), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'nopriv-password'")
    dbname = database_url.rsplit("/", 1)[1]
    yield f"postgresql://{role}:nopriv-password@127.0.0.1:{pg_server.port}/{dbname}"
    postgres.drop_database(pg_server, dbname)  # the role's database goes first
    with psycopg.connect(pg_server.url(), autocommit=True) as conn:
        conn.execute(f"DROP ROLE {role}")


def test_migrate_as_a_role_without_privileges_is_one_json_line_and_exit_5(
    unprivileged_url: str,
) -> None:
    result = cli.run("migrate", env={"DATABASE_URL": unprivileged_url, "LOG_FORMAT": "json"})
    assert result.returncode == 5, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    entry = json.loads(lines[0])
    assert entry["level"] == "error"
    assert entry["exit_code"] == 5
    assert "permission denied for table schema_migration" in entry["message"]
    assert "as the role that owns" in entry["message"]
    assert "nopriv-password" not in result.stderr


def test_migrate_errors_are_one_plain_line_in_text_mode(unprivileged_url: str) -> None:
    result = cli.run("migrate", env={"DATABASE_URL": unprivileged_url, "LOG_FORMAT": "text"})
    assert result.returncode == 5
    assert [line for line in result.stderr.splitlines() if line.strip()] == [result.stderr.strip()]
    assert result.stderr.startswith("weather-warehouse migrate: error: ")
    assert "permission denied" in result.stderr


def test_0002_makes_the_derived_figures_and_the_ledger_of_an_older_database_true(
    empty_database_url: str,
) -> None:
    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        conn.execute(migrate._CREATE_LEDGER)
        migrate._apply(conn, migrate.available()[0])
        # What 0001 and the old loader left after TRUNCATE and a partial reload.
        conn.execute(
            """INSERT INTO station (station_id, first_date, last_date, observation_count) VALUES
               ('USC00000001', '1999-12-01', '2000-01-31', 124),
               ('USC00000002', '1999-12-01', '2000-01-31', 62)"""
        )
        conn.execute("INSERT INTO observation VALUES ('USC00000001', '2000-01-01', 1, 0, 0)")
        conn.execute("INSERT INTO ingest_run (source) VALUES ('/d')")
        conn.execute(
            """INSERT INTO ingest_file (run_id, uri, format, checksum, status) VALUES
               (1, '/d/USC00000001.txt', 'station_txt', 'a', 'loaded'),
               (1, '/d/USC00000002.txt', 'station_txt', 'b', 'loaded')"""
        )

        migrate.migrate(conn)

        assert conn.execute(
            "SELECT station_id, first_date::text, last_date::text, observation_count "
            "FROM station ORDER BY 1"
        ).fetchall() == [
            ("USC00000001", "2000-01-01", "2000-01-01", 1),
            ("USC00000002", None, None, 0),
        ]
        uris = ["/d/USC00000001.txt", "/d/USC00000002.txt"]
        assert _last_loaded(conn, uris) == {"/d/USC00000001.txt": "a"}
