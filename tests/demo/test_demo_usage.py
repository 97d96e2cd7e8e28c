"""``weather-warehouse demo`` refuses what it cannot do, in one line, before starting anything."""

from __future__ import annotations

import shutil
import socket
import stat
import tempfile
from pathlib import Path

import pytest

from command import demo, demo_database, sample_data
from command.postgres_server import EmbeddedPostgres
from tests import cli
from warehouse.errors import ConfigError
from warehouse.ports import free_port


def test_a_taken_port_is_a_one_line_error_with_exit_code_2(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = cli.run(
            "demo",
            "--port",
            str(port),
            # What a person at a terminal reads (JSON mode gives one JSON line instead).
            env={"WAREHOUSE_DATA_DIR": str(tmp_path / "data"), "LOG_FORMAT": "text"},
        )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"weather-warehouse demo: error: port {port} on 127.0.0.1 is already in use: stop "
        "what listens there, or choose another port (make run PORT=8001, or --port 8001)"
    ]
    assert not (tmp_path / "data").exists()  # no server was started


def test_a_port_out_of_range_is_a_usage_error() -> None:
    result = cli.run("demo", "--port", "70000")
    assert result.returncode == 2
    assert "is not a TCP port" in result.stderr


def test_data_naming_a_folder_of_data_folders_loads_each_of_them(tmp_path: Path) -> None:
    sample_data.write(tmp_path, sample_data.SampleSpec(stations=2, first_year=2000, last_year=2000))
    (tmp_path / "SOURCE.txt").write_text("where the files came from\n")
    assert demo.data_sources([tmp_path]) == [
        str(tmp_path / "wx_data"),
        str(tmp_path / "yld_data"),
    ]


def test_data_naming_folders_or_files_loads_them_as_given(tmp_path: Path) -> None:
    sample_data.write(tmp_path, sample_data.SampleSpec(stations=2, first_year=2000, last_year=2000))
    yield_file = tmp_path / "yld_data" / "US_corn_grain_yield.txt"
    assert demo.data_sources([tmp_path / "wx_data", yield_file]) == [
        str(tmp_path / "wx_data"),
        str(yield_file),
    ]


def test_data_naming_nothing_loadable_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no such file or folder"):
        demo.data_sources([tmp_path / "missing"])
    with pytest.raises(ConfigError, match="no data files"):
        demo.data_sources([tmp_path / "empty"])


def test_a_server_that_cannot_start_is_a_one_line_error_quoting_its_log() -> None:
    base = Path(tempfile.mkdtemp(prefix="wh-demo-"))
    try:
        base.chmod(0o755)  # the server may run as another user (tests under root)
        broken = base / "data" / "postgres"
        broken.mkdir(parents=True)
        (broken / "PG_VERSION").write_text("9.6\n")  # a data folder, but no configuration
        user = EmbeddedPostgres(data_dir=broken).user
        if user is not None:  # under root, as the server's own folder would be
            for path in (base / "data", broken, broken / "PG_VERSION"):
                shutil.chown(path, user, user)
        result = cli.run(
            "demo",
            "--port",
            str(free_port()),
            env={"WAREHOUSE_DATA_DIR": str(base / "data"), "LOG_FORMAT": "text"},
        )
        server_log = (base / "data" / "postgres.log").read_text().strip().splitlines()
    finally:
        shutil.rmtree(base, ignore_errors=True)
    assert result.returncode == 2
    [line] = [x for x in result.stderr.splitlines() if x.startswith("weather-warehouse demo:")]
    assert line.startswith("weather-warehouse demo: error: embedded PostgreSQL: start")
    assert f"PostgreSQL says: {server_log[-1].strip()}" in line
    assert f"delete {broken} to start afresh" in line


def test_a_home_too_deep_for_a_socket_path_gets_a_private_temporary_socket_folder(
    tmp_path: Path,
) -> None:
    home = tmp_path / ("deep-" * 20)
    home.mkdir()
    with demo_database.socket_folder(home) as folder:
        assert len(str(folder / ".s.PGSQL.65535")) <= 107  # what a Unix socket's path holds
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert not folder.exists()
