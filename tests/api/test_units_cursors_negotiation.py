"""Pure pieces of the API: unit conversion, signed cursors, content negotiation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from service import units
from service.lists import negotiation
from service.lists.pagination import Cursors, scope_of
from service.params import Format
from service.problems import ApiProblem

BOTH = (Format.json, Format.csv)


@pytest.mark.parametrize(
    ("tenths", "celsius", "fahrenheit"),
    [
        (0, 0.0, 32.0),
        (-22, -2.2, 28.04),
        (372, 37.2, 98.96),
        (-400, -40.0, -40.0),
        (None, None, None),
    ],
)
def test_temperatures_from_tenths(
    tenths: int | None, celsius: float | None, fahrenheit: float | None
) -> None:
    assert units.tenths_c_to_c(tenths) == celsius
    assert units.tenths_c_to_f(tenths) == fahrenheit


def test_precipitation_from_tenths() -> None:
    assert units.tenths_mm_to_mm(94) == 9.4
    assert units.tenths_mm_to_in(254) == 1.0
    assert units.tenths_mm_to_in(1) == 0.004  # 0.1 mm = 0.0039 in
    assert units.tenths_mm_to_mm(None) is None


def test_statistics_round_exact_decimals() -> None:
    assert units.c_to_c(Decimal("15.33479452054794520548")) == 15.334795
    assert units.cm_to_cm(Decimal("78.0100")) == 78.01
    assert units.c_to_f(Decimal("100")) == 212.0
    assert units.cm_to_in(Decimal("2.54")) == 1.0
    assert units.cm_to_cm(None) is None


def test_cursor_round_trip() -> None:
    cursors = Cursors(b"k")
    scope = scope_of("weather", ["A"], date(2000, 1, 1), None)
    token = cursors.encode(scope, ("A", date(2000, 1, 2)))
    assert cursors.decode(scope, token) == ["A", "2000-01-02"]


@pytest.mark.parametrize(
    "other",
    [
        scope_of("weather", ["B"], date(2000, 1, 1), None),  # other filters
        scope_of("stats", ["A"], date(2000, 1, 1), None),  # other endpoint
    ],
)
def test_cursor_is_bound_to_its_query(other: str) -> None:
    cursors = Cursors(b"k")
    token = cursors.encode(scope_of("weather", ["A"], date(2000, 1, 1), None), ("A", "x"))
    with pytest.raises(ApiProblem) as caught:
        cursors.decode(other, token)
    assert caught.value.status == 400


def test_cursor_of_another_key_is_refused() -> None:
    scope = scope_of("yield")
    token = Cursors(b"one key").encode(scope, (1990,))
    with pytest.raises(ApiProblem):
        Cursors(b"another key").decode(scope, token)


def test_no_accept_header_gives_json() -> None:
    assert negotiation.choose(None, None, BOTH) is Format.json
    assert negotiation.choose("*/*", None, BOTH) is Format.json


def test_most_specific_media_range_decides() -> None:
    assert negotiation.choose("text/csv, */*;q=0.1", None, BOTH) is Format.csv
    assert negotiation.choose("text/*;q=0, */*", None, BOTH) is Format.json
    assert negotiation.choose("application/json;q=0.2, text/csv;q=0.3", None, BOTH) is Format.csv


def test_nothing_acceptable_is_a_406() -> None:
    with pytest.raises(ApiProblem) as caught:
        negotiation.choose("application/xml", None, BOTH)
    assert caught.value.status == 406


def test_explicit_format_wins() -> None:
    assert negotiation.choose("application/json", Format.csv, BOTH) is Format.csv
