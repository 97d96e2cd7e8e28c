"""``weather-warehouse demo`` with ``--data``, and interrupted while it starts."""

from __future__ import annotations

import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from command import sample_data
from command.demo_database import stop_leftover
from command.postgres_server import EmbeddedPostgres
from tests.demo.process import Demo, none_left_using
from tests.harness.waiting import wait_for
from warehouse.ports import free_port

SMALL = sample_data.SampleSpec(seed=11, stations=3, first_year=2001, last_year=2002)


@pytest.fixture
def base() -> Iterator[Path]:
    # Readable by the server's user when the tests run as root (see tests/conftest.py).
    folder = Path(tempfile.mkdtemp(prefix="wh-demo-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        server = folder / "data" / "postgres"
        if server.is_dir():  # a test failed half-way: no server may outlive it
            stop_leftover(EmbeddedPostgres(data_dir=server))
        shutil.rmtree(folder, ignore_errors=True)


def test_data_loads_the_given_folders_instead_of_the_sample(base: Path) -> None:
    files = base / "files"
    sample_data.write(files, SMALL)
    (files / "SOURCE.txt").write_text("where these files came from\n")  # not data
    demo = Demo(base / "data", free_port(), args=("--data", str(files))).start(run=1)
    demo.wait_ready()
    try:
        assert "SAMPLE" not in demo.stdout
        assert "4 files loaded, 0 unchanged, 0 rejected" in demo.stdout
        stations = demo.get_json("/api/stations")["data"]
        assert [s["station_id"] for s in stations] == [
            s.station_id for s in sample_data.make_stations(SMALL)
        ]
        assert [row["year"] for row in demo.get_json("/api/yield")["data"]] == [2001, 2002]
        assert not (base / "data" / "sample").exists()
    finally:
        demo.signal(signal.SIGINT)


def small_data(base: Path) -> tuple[str, str]:
    """``--data`` with a small generated set: these tests are about starting, not loading."""
    sample_data.write(base / "files", SMALL)
    return ("--data", str(base / "files"))


def test_ctrl_c_as_soon_as_postgres_runs_stops_it(base: Path) -> None:
    demo = Demo(base / "data", free_port(), args=small_data(base)).start(run=1)
    pid_file = base / "data" / "postgres" / "postmaster.pid"
    # The server runs; migrating or loading comes next.
    wait_for(lambda: demo.running() and pid_file.exists(), "PostgreSQL to start", 60, 0.05)
    demo.signal(signal.SIGINT)
    assert none_left_using(base) == []
    assert not pid_file.exists()  # a clean shutdown


def test_ctrl_c_during_the_first_initdb_leaves_a_folder_the_next_run_uses(base: Path) -> None:
    data = small_data(base)
    demo = Demo(base / "data", free_port(), args=data).start(run=1)
    # initdb runs now, for a second or two.
    wait_for(lambda: demo.running() and "starting PostgreSQL" in demo.stderr,
             "the demo to start PostgreSQL", 60, 0.01)  # fmt: skip
    demo.signal(signal.SIGINT)
    assert none_left_using(base) == []

    again = Demo(base / "data", free_port(), args=data).start(run=2)
    again.wait_ready()
    assert again.signal(signal.SIGINT) in (0, 130)
    assert none_left_using(base) == []


def test_a_data_folder_made_when_the_demo_listened_on_tcp_is_served_on_the_socket_only(
    base: Path,
) -> None:
    home = base / "data"
    home.mkdir()
    older = EmbeddedPostgres(data_dir=home / "postgres")  # no socket folder: TCP, as before
    older.init()
    if older.user is not None:  # as the demo leaves it under root: the server user's folder
        shutil.chown(home, older.user, older.user)
    demo = Demo(home, free_port(), args=small_data(base)).start(run=1)
    demo.wait_ready()
    try:
        hba = (home / "postgres" / "pg_hba.conf").read_text()
        assert "host " not in hba
        assert "local " in hba
        lines = (home / "postgres" / "postmaster.pid").read_text().splitlines()
        assert lines[5].strip() == ""  # no TCP address
        assert len(demo.get_json("/api/stations")["data"]) == SMALL.stations
    finally:
        demo.signal(signal.SIGINT)
