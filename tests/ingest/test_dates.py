"""The bulk date check of station files: dates in order, against the calendar as one string."""

from __future__ import annotations

import pytest

from ingest_job import formats
from ingest_job.formats import dates, station_txt


def column(*days: str) -> bytes:
    return "".join(f"{day}\n" for day in days).encode()


def test_dates_in_order_with_gaps_are_increasing() -> None:
    assert dates.increasing(column("19841230", "19841231", "19850102", "19850103", "19860101"))


@pytest.mark.parametrize("days", [("19850102", "19850101"), ("19850101", "19850101")])
def test_a_date_not_after_the_one_before_is_not_increasing(days: tuple[str, ...]) -> None:
    assert not dates.increasing(column(*days))


@pytest.mark.parametrize("day", ["19850230", "19850229", "19851301", "19850100", "17991231"])
def test_a_date_outside_the_calendar_is_refused(day: str) -> None:
    assert not dates.increasing(column(day))


def test_29_february_of_a_leap_year_is_in_the_calendar() -> None:
    assert dates.increasing(column("19840228", "19840229", "19840301"))


def test_more_runs_than_allowed_are_left_to_the_date_by_date_check() -> None:
    every_other_day = [f"198501{day:02d}" for day in range(1, 32, 2)]
    assert dates.increasing(column(*every_other_day), most_runs=16)
    assert not dates.increasing(column(*every_other_day), most_runs=15)


def test_a_station_file_in_reverse_date_order_loads_the_same_rows() -> None:
    lines = [b"19850101\t  -22\t -128\t   94\n", b"19850102\t -122\t -217\t    0\n"]
    forward = formats.parse("USC1.txt", b"".join(lines))
    backward = formats.parse("USC1.txt", b"".join(reversed(lines)))
    assert backward.ok
    assert sorted(backward.payload.splitlines()) == sorted(forward.payload.splitlines())


@pytest.mark.parametrize(
    "data",
    [
        b"19850101\t  -22\t -128\t   94\n19850102\t -122\t -217\t    0\n",  # one width
        b"19850101\t-22\t-128\t94\n19850102\t  -122\t -217\t    0\n",  # two widths
        b"19850101\t-22\t-128\t94\n19850102\t-122\t-217\t0\n19850103\t1\t2\t3\n",
    ],
)
def test_the_fast_path_reads_the_dates_of_lines_of_any_width(data: bytes) -> None:
    fast = formats.parse("USC1.txt", data)
    slow = station_txt.parse("USC1.txt", data, fast=False)
    assert fast.ok
    assert fast.rows == slow.rows == data.count(b"\n")
    assert rows(fast.payload) == rows(slow.payload)


def rows(payload: bytes) -> list[tuple[bytes, ...]]:
    """COPY rows with dates as YYYYMMDD and numbers without padding."""
    return [
        tuple(field.strip().replace(b"-", b"") if n == 1 else field.strip() for n, field in
              enumerate(line.split(b"\t")))
        for line in payload.splitlines()
    ]  # fmt: skip
