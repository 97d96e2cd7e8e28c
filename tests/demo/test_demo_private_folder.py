"""``make run`` as root in a folder only root may enter (a clone under /root).

PostgreSQL refuses to run as root, so under root its server runs as the
``postgres`` user, who cannot enter such a folder. The demo then keeps the
server's data in a folder of its own under ``/var/lib`` instead of opening the
private folder to others. Only root meets this case; as any other user the
server runs as that user, which the other demo tests cover.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from command import demo_database, sample_data
from command.postgres_server import EmbeddedPostgres
from tests.demo.process import Demo, none_left_using
from warehouse.errors import ConfigError
from warehouse.ports import free_port

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="only root runs PostgreSQL as another user (needs root)"
)

SMALL = sample_data.SampleSpec(seed=12, stations=2, first_year=2001, last_year=2001)


@pytest.fixture
def private() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="wh-private-"))  # mode 0700, owned by root
    server_home = demo_database.server_home(folder / "data")
    try:
        yield folder
    finally:
        if (server_home / "postgres").is_dir():  # a failed test: no server may outlive it
            demo_database.stop_leftover(EmbeddedPostgres(data_dir=server_home / "postgres"))
        shutil.rmtree(server_home, ignore_errors=True)
        shutil.rmtree(folder, ignore_errors=True)


def test_as_root_in_a_private_folder_the_demo_serves_and_stops_cleanly(private: Path) -> None:
    assert private.stat().st_mode & 0o777 == 0o700
    sample_data.write(private / "files", SMALL)
    demo = Demo(private / "data", free_port(), ("--data", str(private / "files"))).start(run=1)
    demo.wait_ready()
    server_home = demo_database.server_home(private / "data")
    try:
        assert server_home.parent == demo_database.SYSTEM_HOME
        assert (server_home / "postgres" / "postmaster.pid").exists()
        assert "its data lives elsewhere" in demo.stderr
        stations = demo.get_json("/api/stations")["data"]
        assert len(stations) == SMALL.stations
    finally:
        assert demo.signal(signal.SIGINT) in (0, 130)
    assert none_left_using(server_home) == []
    assert not (server_home / "postgres" / "postmaster.pid").exists()  # a clean shutdown
    assert private.stat().st_mode & 0o777 == 0o700  # never opened to others


def test_the_folder_for_server_data_must_belong_to_root_alone(private: Path) -> None:
    shared = private / "open"
    shared.mkdir()
    shared.chmod(0o777)  # as another user could have made it
    with pytest.raises(ConfigError, match="owned by root that no one else"):
        demo_database.server_home(private / "data", system_home=shared)


def test_a_folder_the_server_user_can_enter_keeps_its_data(private: Path) -> None:
    private.chmod(0o755)
    assert demo_database.server_home(private / "data") == private / "data"
