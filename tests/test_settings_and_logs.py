"""Settings never reveal a password; logs scrub anything shaped like one."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest
from pydantic import SecretStr

from warehouse import db, logs
from warehouse.errors import ConfigError
from warehouse.settings import Settings, load_settings

SECRET = "hunter2-VERY-secret"


def test_repr_of_settings_hides_the_password() -> None:
    settings = Settings(database_url=SecretStr(f"postgresql://u:{SECRET}@h/d"), pgpassword=SECRET)
    assert SECRET not in repr(settings)
    assert SECRET not in str(settings.model_dump())


def test_libpq_variables_build_the_connection_string() -> None:
    settings = Settings(pghost="db.internal", pgport=6432, pgdatabase="wh", pguser="app")
    info = db.conninfo(settings)
    assert db.describe(info) == "db.internal:6432/wh as app"


def test_password_file_wins_over_pgpassword(tmp_path: Path) -> None:
    secret_file = tmp_path / "pw"
    secret_file.write_text(f"{SECRET}\n")
    settings = Settings(pgpassword="other", database_password_file=secret_file)
    assert settings.database_password() == SECRET


def test_invalid_settings_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGPORT", "not-a-port")
    with pytest.raises(ConfigError, match="PGPORT"):
        load_settings()


def test_tracing_is_off_unless_enabled() -> None:
    assert Settings().tracing_enabled is False


def test_sampling_ratio_comes_from_the_standard_otel_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", "0.25")
    assert load_settings().otel_traces_sampler_arg == 0.25


def test_by_default_new_traces_are_one_a_second_and_no_ratio() -> None:
    settings = Settings()
    assert (settings.tracing_traces_per_second, settings.otel_traces_sampler_arg) == (1, 0)


def test_a_negative_trace_rate_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACING_TRACES_PER_SECOND", "-1")
    with pytest.raises(ConfigError, match="TRACING_TRACES_PER_SECOND"):
        load_settings()


def test_a_sampling_ratio_above_one_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", "1.5")
    with pytest.raises(ConfigError, match="OTEL_TRACES_SAMPLER_ARG"):
        load_settings()


@pytest.mark.parametrize(
    "text",
    [
        f"connecting to postgresql://app:{SECRET}@db:5432/wh",
        f"host=db password={SECRET} dbname=wh",
        f"host=db password='{SECRET}' dbname=wh",
    ],
)
def test_redact_removes_passwords(text: str) -> None:
    assert SECRET not in logs.redact(text)


def test_json_log_lines_carry_extra_fields_and_no_password() -> None:
    stream = io.StringIO()
    logs.configure("json", "INFO", stream)
    logging.getLogger("t").info(
        "connect %s",
        f"postgresql://a:{SECRET}@h/d",
        extra={"run_id": 7, "dsn": f"password={SECRET}"},
    )
    entry = json.loads(stream.getvalue())
    assert entry["run_id"] == 7
    assert entry["level"] == "info"
    assert SECRET not in stream.getvalue()


def test_text_log_lines_are_readable() -> None:
    stream = io.StringIO()
    logs.configure("text", "INFO", stream)
    logging.getLogger("t").info("loaded", extra={"rows": 3})
    assert stream.getvalue().rstrip().endswith("t: loaded rows=3")
