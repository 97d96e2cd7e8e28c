"""The commands speak one voice: LOG_FORMAT for every message, --help that says enough, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import cli

COMMANDS = ["migrate", "ingest", "runs", "stats", "serve", "demo"]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_names_the_environment_database_url_first_and_ends_with_the_exit_codes(
    command: str,
) -> None:
    text = cli.run(command, "--help").stdout
    environment = text[text.index("environment:") :]
    if command != "demo":  # the demo runs its own PostgreSQL
        assert environment.split()[1] == "DATABASE_URL"
    assert "LOG_FORMAT" in environment
    codes = text[text.index("exit codes:") :].splitlines()[1:]
    assert [line.split()[0] for line in codes] == ["0", "1", "2", "3", "4", "5", "70", "130", "143"]


def test_runs_show_has_its_own_help() -> None:
    runs, show = cli.run("runs", "--help").stdout, cli.run("runs", "show", "--help").stdout
    assert "only files with this status" in show
    assert "only runs with this status" in runs
    assert runs != show


def test_stats_help_says_it_recomputes_yearly_and_monthly_figures() -> None:
    assert "yearly and monthly" in cli.run("--help").stdout
    assert "station-month" in cli.run("stats", "--help").stdout


@pytest.mark.parametrize(
    "args",
    [["runs", "--status", "bogus"], ["runs", "show", "1", "--status", "bogus"],
     ["runs", "--limit", "x"], ["serve", "--port", "x"]],
)  # fmt: skip
def test_a_bad_option_value_exits_2(args: list[str]) -> None:
    result = cli.run(*args)
    assert result.returncode == 2, result.stderr


def test_an_invalid_setting_is_one_json_line_when_log_format_is_json() -> None:
    result = cli.run("migrate", env={"DATABASE_POOL_MAX_SIZE": "0", "LOG_FORMAT": "json"})
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    record = json.loads(line)
    assert (record["level"], record["exit_code"]) == ("error", 2)
    assert "DATABASE_POOL_MAX_SIZE" in record["message"].upper()


def test_dry_run_logs_a_file_that_passes_at_info(tmp_path: Path) -> None:
    (tmp_path / "USC00110072.txt").write_bytes(b"19850101\t  -22\t -128\t   94\n")
    result = cli.run("ingest", "--dry-run", "--source", str(tmp_path))
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stderr.splitlines()]
    checked = [r for r in records if r["message"] == "file checked"]
    assert [r["level"] for r in checked] == ["info"]
