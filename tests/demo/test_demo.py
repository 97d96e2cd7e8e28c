"""``weather-warehouse demo`` end to end: one data folder through several runs, in order.

The first run generates the sample data (``--seed``, as ``make run SEED=``
does), loads it and serves it; Ctrl-C stops the API and then PostgreSQL. Later
runs reuse the folder: nothing new to load, and a server that a killed demo
left behind is stopped and reused.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from command import sample_data
from command.demo_database import stop_leftover
from command.postgres_server import EmbeddedPostgres, find_bin_dir
from tests.demo.process import Demo, alive, gone
from warehouse.ports import free_port

SAMPLE = sample_data.SampleSpec()
SAMPLE_ARGS = ("--seed", str(SAMPLE.seed))  # invented data: known stations, quick to load
INTERRUPTED = (0, 130)  # a clean stop on Ctrl-C: 0, or the shell's 128 + SIGINT


@pytest.fixture(scope="module")
def home() -> Iterator[Path]:
    # Not under pytest's tmp_path: that is private to the test user, and the
    # server may run as another one (tests under root).
    base = Path(tempfile.mkdtemp(prefix="wh-demo-"))
    base.chmod(0o755)
    try:
        yield base / "data"
    finally:
        server = base / "data" / "postgres"
        if server.is_dir():  # a test failed half-way: no server may outlive it
            stop_leftover(EmbeddedPostgres(data_dir=server))
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def first_run(home: Path) -> Iterator[Demo]:
    demo = Demo(home, free_port(), SAMPLE_ARGS).start(run=1)
    try:
        demo.wait_ready()
        FIRST_RUN_PAGES.update(second_page(demo))
        yield demo
    finally:
        if demo.process.poll() is None:
            demo.signal(signal.SIGINT)


@pytest.fixture
def first_run_over(first_run: Demo) -> Demo:
    if first_run.process.poll() is None:
        first_run.signal(signal.SIGINT)
    return first_run


FIRST_RUN_PAGES: dict[str, object] = {}


def second_page(demo: Demo) -> dict[str, object]:
    """The link to the second page of stations (relative) and that page's rows."""
    link = demo.get_json("/api/stations?limit=5")["next"]
    path = link[link.index("/api/") :]
    return {"path": path, "rows": demo.get_json(path)["data"]}


def weather_file(home: Path, station_id: str) -> list[list[int]]:
    path = home / "sample" / f"seed-{SAMPLE.seed}" / "wx_data" / f"{station_id}.txt"
    return [[int(field) for field in line.split("\t")] for line in path.read_text().splitlines()]


def test_the_first_run_says_its_data_is_generated(first_run: Demo) -> None:
    assert "Generated SAMPLE data set" in first_run.stdout
    assert "not real observations" in first_run.stdout
    assert re.search(r"\b31 files loaded\b", first_run.stdout), first_run.stdout


def test_the_first_run_prints_where_to_look(first_run: Demo) -> None:
    assert f"{first_run.base}/docs" in first_run.stdout
    assert f"{first_run.base}/metrics" in first_run.stdout
    curls = re.findall(r"curl '([^']+)'", first_run.stdout)
    assert any("station_id=USC00" in url for url in curls)
    for url in curls:  # every example works
        reply = first_run.get(url.removeprefix(first_run.base))
        status, body = reply.status, reply.body
        assert status == 200, (url, body[:300])


def test_stations_lists_every_generated_station(first_run: Demo) -> None:
    listed = first_run.get_json("/api/stations?limit=1000")["data"]
    generated = [s.station_id for s in sample_data.make_stations(SAMPLE)]
    assert sorted(row["station_id"] for row in listed) == generated


def test_weather_serves_the_file_values_in_degrees_and_millimetres(
    first_run: Demo, home: Path
) -> None:
    station = sample_data.make_stations(SAMPLE)[0].station_id
    day, tmax, tmin, prcp = weather_file(home, station)[0]
    rows = first_run.get_json(f"/api/weather?station_id={station}&limit=3")["data"]
    first = rows[0]
    assert first["station_id"] == station
    assert first["date"] == f"{str(day)[:4]}-{str(day)[4:6]}-{str(day)[6:]}"
    for field, tenths in (("max_temp_c", tmax), ("min_temp_c", tmin), ("precip_mm", prcp)):
        expected = None if tenths == sample_data.MISSING else tenths / 10
        assert first[field] == pytest.approx(expected), field


def test_stats_cover_every_year_of_a_station_with_plausible_figures(first_run: Demo) -> None:
    station = sample_data.make_stations(SAMPLE)[0]
    rows = first_run.get_json(f"/api/weather/stats?station_id={station.station_id}&limit=100")
    years = [row["year"] for row in rows["data"]]
    assert years == list(range(station.first_day.year, station.last_day.year + 1))
    for row in rows["data"]:
        assert 5 < row["avg_max_temp_c"] < 30
        assert row["avg_min_temp_c"] < row["avg_max_temp_c"]
        assert 10 < row["total_precip_cm"] < 200


def test_the_demo_serves_the_indices_of_every_year(first_run: Demo) -> None:
    station = sample_data.make_stations(SAMPLE)[0]
    rows = first_run.get_json(f"/api/weather/indices?station_id={station.station_id}&limit=100")
    years = [row["year"] for row in rows["data"]]
    assert years == list(range(station.first_day.year, station.last_day.year + 1))


def test_docs_and_metrics_are_served(first_run: Demo) -> None:
    docs = first_run.get("/docs")
    status, content_type, body = docs.status, docs.headers["content-type"], docs.body
    assert status == 200
    assert content_type.startswith("text/html")
    metrics = first_run.get("/metrics")
    status, body = metrics.status, metrics.body
    assert status == 200
    assert b"weather_warehouse_http_requests_total" in body


def listening(home: Path) -> tuple[int, Path, str]:
    """Port, socket folder and TCP address of the demo's server, from its postmaster.pid."""
    lines = (home / "postgres" / "postmaster.pid").read_text().splitlines()
    return int(lines[3]), Path(lines[4]), lines[5].strip()


def test_postgres_listens_only_on_a_unix_socket_in_a_private_folder(
    first_run: Demo, home: Path
) -> None:
    port, socket_dir, tcp_address = listening(home)
    assert tcp_address == ""  # no TCP address at all
    assert socket_dir == (home / "socket").resolve()
    assert stat.S_IMODE(socket_dir.stat().st_mode) == 0o700
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_another_local_user_cannot_connect_to_the_demo_postgres(
    first_run: Demo, home: Path
) -> None:
    if os.geteuid() != 0:
        pytest.skip("acting as another local user needs root (CI runs the tests as root)")
    port, socket_dir, _ = listening(home)
    psql = str(find_bin_dir() / "psql")
    as_nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]
    for target in (f"host=127.0.0.1 port={port}", f"host={socket_dir} port={port}"):
        tried = subprocess.run(
            [*as_nobody, psql, "-w", f"{target} user=postgres dbname=postgres", "-c", "SELECT 1"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert tried.returncode != 0, f"nobody connected as postgres through {target}"
        assert "Permission denied" in tried.stderr or "refused" in tried.stderr, tried.stderr


def test_a_second_demo_on_the_same_folder_is_refused(first_run: Demo, home: Path) -> None:
    second = Demo(home, free_port(), SAMPLE_ARGS).start(run=9)
    assert second.process.wait(timeout=60) == 2
    assert "another demo" in second.stderr
    assert len(second.stderr.strip().splitlines()) == 1
    assert first_run.get("/readyz").status == 200


def test_ctrl_c_stops_the_api_and_then_postgres(first_run: Demo, home: Path) -> None:
    postmaster = first_run.postmaster_pid()
    assert alive(postmaster)
    assert first_run.signal(signal.SIGINT) in INTERRUPTED
    assert gone(postmaster)
    assert not (home / "postgres" / "postmaster.pid").exists()  # a clean shutdown


def test_a_second_run_reuses_the_data_and_inserts_no_row(first_run_over: Demo, home: Path) -> None:
    demo = Demo(home, free_port(), SAMPLE_ARGS).start(run=2)
    demo.wait_ready()
    postmaster = demo.postmaster_pid()
    assert "Using the previously generated SAMPLE data set" in demo.stdout
    assert re.search(r"\b0 rows inserted, 0 updated\b", demo.stdout), demo.stdout
    assert len(demo.get_json("/api/stations?limit=1000")["data"]) == SAMPLE.stations
    # Page links of the first run still work: the cursor key is kept with the data.
    assert demo.get_json(str(FIRST_RUN_PAGES["path"]))["data"] == FIRST_RUN_PAGES["rows"]
    assert demo.signal(signal.SIGTERM) in (0, 143)
    assert gone(postmaster)


def test_the_server_of_a_killed_demo_is_stopped_and_its_data_reused(
    first_run_over: Demo, home: Path
) -> None:
    killed = Demo(home, free_port(), SAMPLE_ARGS).start(run=3)
    killed.wait_ready()
    orphan = killed.postmaster_pid()
    killed.signal(signal.SIGKILL)  # no chance to clean up: PostgreSQL keeps running
    assert alive(orphan)

    demo = Demo(home, free_port(), SAMPLE_ARGS).start(run=4)
    demo.wait_ready()
    assert gone(orphan)
    postmaster = demo.postmaster_pid()
    assert len(demo.get_json("/api/stations?limit=1000")["data"]) == SAMPLE.stations
    assert demo.signal(signal.SIGINT) in INTERRUPTED
    assert gone(postmaster)


def test_a_stale_lock_file_naming_another_program_is_removed_not_signalled(
    first_run_over: Demo, home: Path
) -> None:
    # After a reboot the pid in postmaster.pid may belong to any program: here,
    # this test process, which must neither be signalled nor block the start.
    lock_file = home / "postgres" / "postmaster.pid"
    lock_file.write_text(f"{os.getpid()}\n{home / 'postgres'}\n")
    demo = Demo(home, free_port(), SAMPLE_ARGS).start(run=5)
    demo.wait_ready()
    assert "removing a stale postmaster.pid" in demo.stderr
    postmaster = demo.postmaster_pid()
    assert postmaster != os.getpid()
    assert demo.signal(signal.SIGINT) in INTERRUPTED
    assert gone(postmaster)


def test_a_data_folder_whose_server_was_killed_starts_again(
    first_run_over: Demo, home: Path
) -> None:
    crashed = Demo(home, free_port(), SAMPLE_ARGS).start(run=6)
    crashed.wait_ready()
    postmaster = crashed.postmaster_pid()
    os.kill(postmaster, signal.SIGKILL)  # an OOM kill: postmaster.pid stays behind
    assert gone(postmaster)
    assert (home / "postgres" / "postmaster.pid").exists()
    assert crashed.signal(signal.SIGINT) in INTERRUPTED

    demo = Demo(home, free_port(), SAMPLE_ARGS).start(run=7)
    demo.wait_ready()
    assert len(demo.get_json("/api/stations?limit=1000")["data"]) == SAMPLE.stations
    assert demo.signal(signal.SIGINT) in INTERRUPTED
