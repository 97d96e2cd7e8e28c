"""A file saved as "UTF-8 with BOM" (Excel, Notepad) loads as the same file without the mark.

The mark is ignored only as the file's first three bytes: anywhere else it is
a character of the line, judged like any other.
"""

from __future__ import annotations

import pytest

from ingest_job import formats
from ingest_job.formats.base import payloads

BOM = b"\xef\xbb\xbf"
DLY = (
    "USC00042319199701TMAX"
    + "".join(f"{v:5d}   " for v in [150] + [-9999] * 30)
    + "\nUSC00042319199701PRCP"
    + "".join(f"{v:5d}   " for v in [12] + [-9999] * 30)
    + "\n"
)

EVERY_TEXT_FORMAT = [
    ("USC00110072.txt", b"19850101\t  -22\t -128\t   94\n19850102\t -122\t -217\t    0\n"),
    ("US_corn_grain_yield.txt", b"1985\t225447\n1986\t208944\n"),
    ("USC00042319.dly", DLY.encode()),
    (
        "USW00014819.csv",
        b"ID,DATE,ELEMENT,DATA_VALUE,M_FLAG,Q_FLAG,S_FLAG,OBS_TIME\n"
        b"USW00014819,20200101,TMAX,56,,,W,2400\n",
    ),
    (
        "ghcnd-stations.txt",
        b"USC00110072  41.2069  -90.7419  223.7 IL ALEDO                              HCN      \n",
    ),
]


@pytest.mark.parametrize(("name", "data"), EVERY_TEXT_FORMAT, ids=[n for n, _ in EVERY_TEXT_FORMAT])
def test_a_leading_byte_order_mark_is_ignored(name: str, data: bytes) -> None:
    plain = formats.parse(name, data)
    marked = formats.parse(name, BOM + data)
    assert plain.ok, plain.summary()
    assert (marked.format, marked.ok, marked.payload) == (plain.format, True, plain.payload)


def test_the_mark_is_ignored_when_the_first_chunks_split_it() -> None:
    name, data = EVERY_TEXT_FORMAT[0]
    parser = formats.parser(name, BOM + data)
    chunks = [BOM[:1], BOM[1:2], BOM[2:] + data[:5], data[5:]]
    assert b"".join(payloads(parser, chunks)) == formats.parse(name, data).payload


def test_a_byte_order_mark_inside_the_file_is_still_a_bad_line() -> None:
    name, data = EVERY_TEXT_FORMAT[0]
    errors = formats.validate(name, data + BOM + b"19850103\t1\t2\t3\n").errors
    assert [e.line for e in errors] == [3]
