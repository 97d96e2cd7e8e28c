"""``make run`` end to end as an ordinary user, on the real data set, by default.

Under root a throwaway user with its own copy of the code and an environment
made with the system's Python (see tests/harness/unprivileged.py); as any
other user, that user. Either way PostgreSQL runs as that user, and the demo
loads the real stations unless told otherwise.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.demo.process import Demo, none_left_using
from tests.harness import unprivileged
from warehouse.ports import free_port

INTERRUPTED = (0, 130)


@pytest.fixture(scope="module")
def installation() -> Iterator[unprivileged.Installation]:
    with unprivileged.ordinary_user() as user, unprivileged.installation(user) as installed:
        yield installed


@pytest.fixture(scope="module")
def demo(installation: unprivileged.Installation) -> Iterator[Demo]:
    home = installation.home / "warehouse"
    demo = Demo(home, free_port()).start(run=1, installation=installation)
    try:
        demo.wait_ready()
        yield demo
    finally:
        if demo.process.poll() is None:
            demo.signal(signal.SIGINT)


def first_line(real_data: Path, station: str) -> list[int]:
    line = (real_data / "wx_data" / f"{station}.txt").read_text().splitlines()[0]
    return [int(field) for field in line.split("\t")]


def test_the_demo_says_it_loads_the_real_data_set(demo: Demo) -> None:
    assert "Loading the REAL data set shipped in data/: 167 weather stations" in demo.stdout
    assert "SAMPLE" not in demo.stdout
    # 167 station files, the yield file and the station inventory: its 171 rows name
    # 4 new stations (those of ghcnd/) and update the 167 the station files made.
    assert re.search(
        r"\b169 files loaded, 0 unchanged, 0 rejected; 1,729,991 rows inserted, 167 updated",
        demo.stdout,
    )


def test_it_serves_the_real_stations_with_their_file_values(demo: Demo, real_data: Path) -> None:
    stations = demo.get_json("/api/stations?limit=1000")["data"]
    assert sorted(s["station_id"] for s in stations if s["observation_count"]) == sorted(
        p.stem for p in (real_data / "wx_data").glob("*.txt")
    )
    day, tmax, tmin, prcp = first_line(real_data, "USC00110072")
    row = demo.get_json("/api/weather?station_id=USC00110072&limit=1")["data"][0]
    assert row["date"] == f"{str(day)[:4]}-{str(day)[4:6]}-{str(day)[6:]}"
    assert (row["max_temp_c"], row["min_temp_c"], row["precip_mm"]) == pytest.approx(
        (tmax / 10, tmin / 10, prcp / 10)
    )
    assert [y["year"] for y in demo.get_json("/api/yield")["data"]][:2] == [1985, 1986]


def test_its_stations_have_the_names_and_places_of_the_noaa_inventory(demo: Demo) -> None:
    (station,) = demo.get_json("/api/stations/search?q=mt%20carr")["data"]
    assert (station["station_id"], station["name"], station["state"]) == (
        "USC00115901",
        "MT CARROLL",
        "IL",
    )
    nearest = demo.get_json("/api/stations/nearest?lat=40.11&lon=-88.24&limit=1")["data"]
    assert nearest[0]["name"] == "CHAMPAIGN 3S"


def test_its_postgres_runs_as_that_user_and_ctrl_c_leaves_no_process(
    demo: Demo, installation: unprivileged.Installation
) -> None:
    pid = demo.postmaster_pid()
    owner = Path(f"/proc/{pid}").stat().st_uid
    assert owner == demo.home.stat().st_uid == Path(demo.home / "postgres").stat().st_uid
    assert owner != 0
    assert demo.signal(signal.SIGINT) in INTERRUPTED
    assert none_left_using(demo.home) == []
