"""A bad or unreachable database: one clear line on stderr, exit 2, no password anywhere."""

from __future__ import annotations

from pathlib import Path

import psycopg

from command.postgres_server import EmbeddedPostgres
from tests import cli
from warehouse.ports import free_port

SECRET = "s3cr3t-Do-Not-Print"


def _only_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


def test_unreachable_server_names_host_and_port_and_exits_2() -> None:
    port = free_port()
    result = cli.run(
        "migrate", env={"DATABASE_URL": f"postgresql://app:{SECRET}@127.0.0.1:{port}/wh"}
    )
    assert result.returncode == 2
    line = _only_line(result.stderr)
    assert f"127.0.0.1:{port}/wh" in line
    assert SECRET not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_a_url_that_is_not_postgresql_is_a_configuration_error() -> None:
    result = cli.run("migrate", env={"DATABASE_URL": f"mysql://app:{SECRET}@db/wh"})
    assert result.returncode == 2
    line = _only_line(result.stderr)
    assert "DATABASE_URL" in line
    assert SECRET not in result.stderr


def test_a_malformed_url_is_a_configuration_error_without_the_password() -> None:
    result = cli.run("migrate", env={"DATABASE_URL": f"postgresql://app:{SECRET}@db:notaport/wh"})
    assert result.returncode == 2
    assert "DATABASE_URL" in _only_line(result.stderr)
    assert SECRET not in result.stderr


def test_a_missing_password_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    result = cli.run(
        "migrate",
        env={
            "DATABASE_URL": "postgresql://app@127.0.0.1/wh",
            "DATABASE_PASSWORD_FILE": str(missing),
        },
    )
    assert result.returncode == 2
    assert str(missing) in _only_line(result.stderr)


def test_password_from_file_works_and_is_never_printed(
    pg_server: EmbeddedPostgres, empty_database_url: str, tmp_path: Path
) -> None:
    with psycopg.connect(pg_server.url(), autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS filepw")
        conn.execute(f"CREATE ROLE filepw LOGIN SUPERUSER PASSWORD '{SECRET}'")
    password_file = tmp_path / "password"
    password_file.write_text(SECRET + "\n")
    dbname = empty_database_url.rsplit("/", 1)[1]
    env = {
        "PGHOST": "127.0.0.1",
        "PGPORT": str(pg_server.port),
        "PGDATABASE": dbname,
        "PGUSER": "filepw",
        "DATABASE_PASSWORD_FILE": str(password_file),
        "LOG_LEVEL": "DEBUG",
    }
    result = cli.run("migrate", env=env)
    assert result.returncode == 0, result.stderr
    assert "schema is current" in result.stderr
    assert SECRET not in result.stderr + result.stdout


def test_a_wrong_password_fails_with_exit_2_and_is_not_printed(
    pg_server: EmbeddedPostgres, empty_database_url: str, tmp_path: Path
) -> None:
    with psycopg.connect(pg_server.url(), autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS wrongpw")
        conn.execute(f"CREATE ROLE wrongpw LOGIN PASSWORD '{SECRET}'")
    password_file = tmp_path / "password"
    password_file.write_text("not-the-password-XYZ")
    dbname = empty_database_url.rsplit("/", 1)[1]
    result = cli.run(
        "migrate",
        env={
            "DATABASE_URL": f"postgresql://wrongpw@127.0.0.1:{pg_server.port}/{dbname}",
            "DATABASE_PASSWORD_FILE": str(password_file),
        },
    )
    assert result.returncode == 2
    line = _only_line(result.stderr)
    assert "password authentication failed" in line
    assert "not-the-password-XYZ" not in result.stderr
