"""Parsers: bytes in, COPY rows and ``file:line: reason`` out, no database."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest_job import formats
from ingest_job.formats import UnrecognisedFile, station_txt

GOOD = b"19850101\t  -22\t -128\t   94\n19850102\t -122\t -217\t    0\n"


def reasons(name: str, data: bytes) -> list[str]:
    return [str(error) for error in formats.validate(name, data).errors]


def test_station_file_becomes_copy_rows_with_missing_values_as_null() -> None:
    parsed = formats.parse("USC00110072.txt", b"19850101\t  -22\t-9999\t   94\n")
    assert parsed.ok
    assert parsed.payload == b"USC00110072\t19850101\t  -22\t\\N\t   94\n"


def test_crlf_line_endings_are_accepted() -> None:
    assert formats.parse("USC1.txt", GOOD.replace(b"\n", b"\r\n")).payload == (
        formats.parse("USC1.txt", GOOD).payload
    )


def test_last_line_without_newline_is_read() -> None:
    assert formats.validate("USC1.txt", GOOD.rstrip(b"\n")).rows == 2


def test_empty_file_is_rejected() -> None:
    assert reasons("USC1.txt", b"") == ["USC1.txt:1: the file is empty"]


def test_wrong_column_count_names_the_line() -> None:
    assert reasons("USC1.txt", GOOD + b"19850103\t1\t2\n") == [
        "USC1.txt:3: expected 4 tab-separated fields (date, max, min, precipitation), found 3"
    ]


def test_non_numeric_value_names_the_line_and_field() -> None:
    assert reasons("USC1.txt", b"19850101\t  abc\t1\t2\n") == [
        "USC1.txt:1: maximum temperature is not a whole number: 'abc'"
    ]


def test_impossible_date_is_rejected() -> None:
    assert reasons("USC1.txt", GOOD + b"19850230\t1\t2\t3\n") == [
        "USC1.txt:3: not a date (YYYYMMDD): '19850230'"
    ]


def test_29_february_of_a_leap_year_is_a_date_and_of_another_year_is_not() -> None:
    assert formats.validate("USC1.txt", b"19840229\t1\t2\t3\n").ok
    assert reasons("USC1.txt", b"19850229\t1\t2\t3\n") == [
        "USC1.txt:1: not a date (YYYYMMDD): '19850229'"
    ]


def test_a_date_twice_in_one_file_is_rejected() -> None:
    assert reasons("USC1.txt", GOOD + b"19850101\t1\t2\t3\n") == [
        "USC1.txt:3: date 19850101 appears twice (first on line 1)"
    ]


def test_negative_precipitation_is_malformed_but_extremes_load_as_given() -> None:
    assert reasons("USC1.txt", b"19850101\t1\t2\t-5\n") == [
        "USC1.txt:1: precipitation -5 is out of range (0 to 2147483647)"
    ]
    surprising = formats.validate("USC1.txt", b"19850101\t-600\t600\t99999\n")
    assert surprising.ok  # a max below the min is the source's record


def test_temperature_beyond_smallint_is_rejected() -> None:
    assert reasons("USC1.txt", b"19850101\t40000\t2\t3\n") == [
        "USC1.txt:1: maximum temperature 40000 is out of range (-32768 to 32767)"
    ]


def test_only_the_first_ten_bad_lines_are_listed_then_counted() -> None:
    data = b"".join(b"1985010%d\tx\t1\t1\n" % (i % 9 + 1) for i in range(25))
    validation = formats.validate("USC1.txt", data)
    assert len(validation.errors) == 10
    assert validation.lines_rejected == 25


def values(payload: bytes) -> list[tuple[str, ...]]:
    """COPY rows as comparable values: padding dropped, dates as YYYYMMDD."""
    rows = []
    for line in payload.decode().splitlines():
        station, day, *rest = (field.strip() for field in line.split("\t"))
        rows.append((station, day.replace("-", ""), *rest))
    return rows


def test_blank_lines_are_ignored() -> None:
    parsed = formats.parse("USC1.txt", b"\n" + GOOD + b"\n \n")
    assert parsed.rows == 2
    assert values(parsed.payload) == values(formats.parse("USC1.txt", GOOD).payload)


def test_file_name_that_is_not_a_station_id_is_unrecognised() -> None:
    with pytest.raises(UnrecognisedFile, match=r"weather 1985\.txt: the name is not a station id"):
        formats.validate("weather 1985.txt", GOOD)


def test_unknown_kind_of_file_is_unrecognised() -> None:
    with pytest.raises(UnrecognisedFile, match="unknown kind of file"):
        formats.validate("notes.pdf", b"%PDF")


def test_yield_file_is_recognised_by_content() -> None:
    validation = formats.validate("US_corn_grain_yield.txt", b"1985\t225447\r\n1986\t208944\r\n")
    assert (validation.format, validation.rows, validation.ok) == ("yield_txt", 2, True)


def test_yield_file_with_a_year_twice_is_rejected() -> None:
    assert reasons("yield.txt", b"1985\t1\n1985\t2\n") == [
        "yield.txt:2: year 1985 appears twice (first on line 1)"
    ]


def test_fast_and_line_by_line_paths_give_the_same_rows(real_data: Path) -> None:
    path = real_data / "wx_data" / "USC00110072.txt"
    fast = formats.parse(path.name, path.read_bytes())
    slow = station_txt.parse(path.name, path.read_bytes(), fast=False)

    assert fast.rows == slow.rows == 10865
    assert values(fast.payload) == values(slow.payload)


DLY_HEAD = "USC00042319199701"


def dly_line(element: str, values: dict[int, tuple[int, str]], head: str = DLY_HEAD) -> str:
    """A .dly line: day -> (value, quality flag); other days missing."""
    blocks = []
    for day in range(1, 32):
        value, quality = values.get(day, (-9999, " "))
        blocks.append(f"{value:5d} {quality} ")
    return head + element + "".join(blocks)


def test_dly_keeps_tmax_tmin_prcp_and_counts_quality_flagged_values() -> None:
    data = "\n".join([
        dly_line("TMAX", {1: (150, " "), 2: (160, "I")}),
        dly_line("TMIN", {1: (50, " ")}),
        dly_line("PRCP", {2: (12, " ")}),
        dly_line("SNOW", {1: (3, " ")}),
    ]).encode()  # fmt: skip
    parsed = formats.parse("USC00042319.dly", data)
    assert parsed.ok
    assert parsed.values_rejected_qc == 1
    assert parsed.payload == (
        b"USC00042319\t1997-01-01\t150\t50\t\\N\nUSC00042319\t1997-01-02\t\\N\t\\N\t12\n"
    )


def test_dly_value_on_day_31_of_a_30_day_month_is_malformed() -> None:
    line = dly_line("TMAX", {31: (10, " ")}, head="USC00042319199704")
    assert reasons("USC00042319.dly", line.encode()) == [
        "USC00042319.dly:1: day 31 has a value but 1997-04 has 30 days"
    ]


def test_real_dly_files_parse_with_quality_rejections(real_data: Path) -> None:
    path = real_data / "ghcnd" / "USC00044534.dly"
    validation = formats.validate(path.name, path.read_bytes())
    assert validation.ok
    assert (validation.rows, validation.values_rejected_qc) == (14685, 84)


CSV = (
    "ID,DATE,ELEMENT,DATA_VALUE,M_FLAG,Q_FLAG,S_FLAG,OBS_TIME\n"
    "USW00014819,20200101,TMAX,56,,,W,2400\n"
    "USW00014819,20200101,TMIN,-12,,,W,2400\n"
    "USW00014819,20200101,PRCP,3,,I,W,\n"
    "USW00014819,20200101,SNOW,0,,,W,\n"
)


def test_by_station_csv_pivots_elements_into_one_row_per_day() -> None:
    parsed = formats.parse("USW00014819.csv", CSV.encode())
    assert parsed.payload == b"USW00014819\t2020-01-01\t56\t-12\t\\N\n"
    assert parsed.values_rejected_qc == 1


def test_by_station_csv_with_a_bad_date_names_the_line() -> None:
    data = CSV + "USW00014819,20200230,TMAX,1,,,W,\n"
    assert reasons("USW00014819.csv", data.encode()) == [
        "USW00014819.csv:6: not a date (YYYYMMDD): '20200230'"
    ]


def test_station_inventory_gives_names_and_coordinates() -> None:
    data = (
        b"USC00110072  39.7833  -88.1667  198.1 IL CAMARGO                                    \n"
        b"ACW00011604  17.1167  -61.7833 -999.9    ST JOHNS COOLIDGE FLD                       \n"
    )
    parsed = formats.parse("ghcnd-stations.txt", data)
    assert parsed.payload == (
        b"USC00110072\tCAMARGO\tIL\t39.7833\t-88.1667\t198.1\n"
        b"ACW00011604\tST JOHNS COOLIDGE FLD\t\\N\t17.1167\t-61.7833\t\\N\n"
    )


def test_by_station_csv_with_an_element_twice_for_a_day_is_rejected() -> None:
    data = CSV + "USW00014819,20200101,TMAX,57,,,W,2400\n"
    assert reasons("USW00014819.csv", data.encode()) == [
        "USW00014819.csv:6: TMAX for 2020-01-01 appears twice"
    ]


def test_by_station_csv_day_with_only_missing_values_adds_no_row() -> None:
    data = CSV + "USW00014819,20200102,TMAX,-9999,,,W,2400\n"
    assert formats.validate("USW00014819.csv", data.encode()).rows == 1
