"""The generated sample data set: deterministic, and shaped like the real files."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from statistics import mean

import pytest

from command import sample_data
from command.sample_data import SampleSpec
from ingest_job import formats

SMALL = SampleSpec(seed=7, stations=4, first_year=2000, last_year=2002)

# One line of a real station file: the date, then three values right-aligned
# in five characters, tab-separated (checked against the real files below).
STATION_LINE = re.compile(r"(\d{8})\t( {0,4}-?\d{1,5})\t( {0,4}-?\d{1,5})\t( {0,4}-?\d{1,5})\n")
YIELD_LINE = re.compile(r"(\d{4})\t(\d+)\n")


def contents(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def station_rows(path: Path) -> list[tuple[str, int, int, int]]:
    rows = []
    with path.open(newline="") as lines:
        for line in lines:
            match = STATION_LINE.fullmatch(line)
            assert match, f"{path.name}: {line!r} is not laid out like a real station line"
            assert all(len(field) == 5 for field in match.groups()[1:]), line
            day, tmax, tmin, prcp = match.groups()
            rows.append((day, int(tmax), int(tmin), int(prcp)))
    return rows


def test_the_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    sample_data.write(tmp_path / "a", SMALL)
    sample_data.write(tmp_path / "b", SMALL)
    assert contents(tmp_path / "a") == contents(tmp_path / "b")


# The default set, byte for byte (checked identical on Python 3.11, 3.12 and
# 3.13). The README shows its station ids: change both together, on purpose.
DEFAULT_SET_SHA256 = "02d0e01604bfe5be97ec4fdd657b5dda1cab783391642d03b248fb9c84c57e17"


def test_the_default_seed_gives_the_same_bytes_on_every_machine(default_sample: Path) -> None:
    digest = hashlib.sha256()
    for name, data in contents(default_sample).items():
        digest.update(name.encode() + b"\0" + data)
    assert digest.hexdigest() == DEFAULT_SET_SHA256


def test_a_different_seed_gives_different_bytes(tmp_path: Path) -> None:
    sample_data.write(tmp_path / "a", SMALL)
    sample_data.write(
        tmp_path / "b", SampleSpec(seed=8, stations=4, first_year=2000, last_year=2002)
    )
    assert contents(tmp_path / "a") != contents(tmp_path / "b")
    assert (tmp_path / "a" / "yld_data" / "US_corn_grain_yield.txt").read_bytes() != (
        tmp_path / "b" / "yld_data" / "US_corn_grain_yield.txt"
    ).read_bytes()


def test_the_default_set_has_a_few_dozen_stations_over_decades(default_sample: Path) -> None:
    names = sorted(p.name for p in (default_sample / "wx_data").iterdir())
    assert 24 <= len(names) <= 60
    assert all(re.fullmatch(r"USC00\d{6}\.txt", name) for name in names)
    years = {row[0][:4] for row in station_rows(default_sample / "wx_data" / names[0])}
    assert len(years) >= 10
    assert [p.name for p in (default_sample / "yld_data").iterdir()] == ["US_corn_grain_yield.txt"]


def test_real_station_files_have_the_layout_the_generator_writes(real_data: Path) -> None:
    for path in sorted((real_data / "wx_data").glob("*.txt"))[:5]:
        assert station_rows(path)


def test_station_files_are_in_date_order_with_max_at_least_min(default_sample: Path) -> None:
    for path in sorted((default_sample / "wx_data").iterdir()):
        rows = station_rows(path)
        days = [row[0] for row in rows]
        assert days == sorted(set(days)), path.name
        for day, tmax, tmin, _ in rows:
            if sample_data.MISSING not in (tmax, tmin):
                assert tmax >= tmin, f"{path.name} {day}"


def test_values_are_plausible_like_the_real_data(default_sample: Path) -> None:
    rows = [r for p in (default_sample / "wx_data").iterdir() for r in station_rows(p)]
    prcp = [r[3] for r in rows if r[3] != sample_data.MISSING]
    wet = [p for p in prcp if p > 0]
    # The real files: about 2 % of each value missing, 70 % of days dry,
    # 8.9 mm on an average wet day with a long tail.
    for column in (1, 2, 3):
        share_missing = sum(r[column] == sample_data.MISSING for r in rows) / len(rows)
        assert 0.005 < share_missing < 0.06
    assert 0.55 < 1 - len(wet) / len(prcp) < 0.85
    assert 50 < mean(wet) < 130
    assert max(wet) > 5 * mean(wet)
    temps = [t for r in rows for t in r[1:3] if t != sample_data.MISSING]
    assert min(temps) > -450
    assert max(temps) < 470


def test_summer_is_warmer_than_winter_and_the_north_colder(default_sample: Path) -> None:
    def mean_max(path: Path, month: str) -> float:
        return mean(
            tmax
            for day, tmax, _, _ in station_rows(path)
            if day[4:6] == month and tmax != sample_data.MISSING
        )

    stations = {s.station_id: s for s in sample_data.make_stations(SampleSpec())}
    by_latitude = sorted(stations.values(), key=lambda s: s.latitude)
    south, north = by_latitude[0], by_latitude[-1]
    for station in (south, north):
        path = default_sample / "wx_data" / f"{station.station_id}.txt"
        assert mean_max(path, "07") - mean_max(path, "01") > 200  # tenths of a degree
    assert mean_max(default_sample / "wx_data" / f"{north.station_id}.txt", "01") < mean_max(
        default_sample / "wx_data" / f"{south.station_id}.txt", "01"
    )


def test_the_yield_file_has_one_line_per_year(default_sample: Path) -> None:
    spec = SampleSpec()
    with (default_sample / "yld_data" / "US_corn_grain_yield.txt").open(newline="") as lines:
        matches = [YIELD_LINE.fullmatch(line) for line in lines]
    assert all(matches)
    years = [int(m[1]) for m in matches if m]
    assert years == list(range(spec.first_year, spec.last_year + 1))
    assert all(100_000 < int(m[2]) < 500_000 for m in matches if m)


def test_ensure_generates_once_and_then_keeps_the_set(tmp_path: Path) -> None:
    folder = tmp_path / "sample"
    assert sample_data.ensure(folder, SMALL) is True
    before = {p: p.stat().st_mtime_ns for p in folder.rglob("*")}
    assert sample_data.ensure(folder, SMALL) is False
    assert {p: p.stat().st_mtime_ns for p in folder.rglob("*")} == before
    assert [p.name for p in tmp_path.iterdir()] == ["sample"]  # no staging folder left


def test_an_invalid_spec_is_refused() -> None:
    with pytest.raises(ValueError, match="years"):
        SampleSpec(first_year=2010, last_year=2000)


def test_every_generated_file_passes_the_ingest_parser(default_sample: Path) -> None:
    for path in sorted(default_sample.rglob("*.txt")):
        parsed = formats.parse(path.name, path.read_bytes())
        assert parsed.ok, parsed.summary()
        expected = "yield_txt" if path.parent.name == "yld_data" else "station_txt"
        assert parsed.format == expected
        assert parsed.rows == len(path.read_bytes().splitlines())
