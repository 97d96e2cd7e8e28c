"""``make run`` itself: the Makefile hands DATA to the demo as typed, spaces and quotes included."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from command import sample_data
from tests.cli import command_env
from tests.demo.process import STOP_LIMIT_S, none_left_using
from tests.harness import http
from tests.harness.waiting import wait_for
from warehouse.ports import free_port

REPO = Path(__file__).resolve().parent.parent.parent
SMALL = sample_data.SampleSpec(seed=13, stations=2, first_year=2003, last_year=2003)


@pytest.fixture
def base() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="wh-make run "))  # a space in every path below
    folder.chmod(0o755)  # the server's user may differ (tests under root)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_make_run_takes_a_data_folder_whose_name_has_spaces_and_quotes(base: Path) -> None:
    files = base / 'Bob\'s "weather" files'
    sample_data.write(files, SMALL)
    port = free_port()
    log = base / "make-run.log"
    with log.open("wb") as out:
        make = subprocess.Popen(
            ["make", "--no-print-directory", "run", f"DATA={files}", f"PORT={port}"],
            cwd=REPO,
            env=command_env({"WAREHOUSE_DATA_DIR": str(base / "data")}),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal gives it
        )
    try:
        stations = wait_for(lambda: _stations(port, make), "the demo's stations", timeout=120)
        assert stations == [s.station_id for s in sample_data.make_stations(SMALL)]
    finally:
        os.killpg(make.pid, signal.SIGINT)  # Ctrl-C at the terminal
        make.wait(timeout=STOP_LIMIT_S)
    assert "3 files loaded" in log.read_text(), log.read_text()
    assert none_left_using(base) == []


def _stations(port: int, make: subprocess.Popen[bytes]) -> list[str] | None:
    """The station ids the API lists, or None while it does not answer yet."""
    if make.poll() is not None:
        raise AssertionError(f"make run exited with {make.returncode}")
    reply = http.answers(f"http://127.0.0.1:{port}/api/stations")
    if reply is None or reply.status != 200:
        return None
    return [row["station_id"] for row in json.loads(reply.body)["data"]]
