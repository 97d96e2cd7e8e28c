"""A GHCN station inventory (``ghcnd-stations.txt`` layout) written for tests and benchmarks."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Station:
    station_id: str
    latitude: float
    longitude: float
    name: str
    state: str = ""
    elevation_m: float = -999.9


def line(station: Station) -> str:
    """One fixed-width inventory line: ID 1-11, lat 13-20, lon 22-30, elev 32-37, state, name."""
    s = station
    return (
        f"{s.station_id:<11} {s.latitude:8.4f} {s.longitude:9.4f} {s.elevation_m:6.1f} "
        f"{s.state:<2} {s.name:<30}"
    )


_WORDS = ("NORTH", "SOUTH", "EAST", "WEST", "LAKE", "RIVER", "MOUNT", "CREEK", "SPRINGS")
# The continental United States, where GHCN-Daily is densest.
US_BOX = (-125.0, 25.0, -67.0, 49.0)


def random_stations(count: int, *, seed: int, us_share: float = 0.0) -> list[Station]:
    """``count`` stations, ids XXR00000001...: ``us_share`` of them in the continental US,
    the others uniform on the sphere."""
    rng = random.Random(seed)
    out = []
    for number in range(1, count + 1):
        if rng.random() < us_share:
            latitude = rng.uniform(US_BOX[1], US_BOX[3])
            longitude = rng.uniform(US_BOX[0], US_BOX[2])
        else:
            # Uniform on the sphere: latitude from the arcsine of a uniform value.
            latitude = math.degrees(math.asin(rng.uniform(-1, 1)))
            longitude = rng.uniform(-180, 180)
        name = f"{rng.choice(_WORDS)} {rng.choice(_WORDS)} {number}"
        out.append(Station(f"XXR{number:08d}", round(latitude, 4), round(longitude, 4), name))
    return out


def write_inventory(folder: Path, stations: Iterable[Station]) -> Path:
    """``folder/ghcnd-stations.txt`` holding ``stations``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "ghcnd-stations.txt"
    path.write_text("".join(line(s) + "\n" for s in stations))
    return path
