"""A first load stages its files one at a time: the staging does not grow with the batch.

A first load takes every file of its batch in one transaction (a savepoint
each, ingest_job/bulk.py). TRUNCATE gives a table new storage and frees the
old only at commit, so the raw lines of every file used to stay on the
database's disk until the whole batch committed (100 by-station files of
163 MB: 420 MB at the peak against 130 MB at the end). Here the files of
the session's temporary tables are read from disk (``pg_ls_dir``, as the
superuser the tests connect as), including those waiting for the commit.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import psycopg
import pytest

from ingest_job import load, pivot
from ingest_job.formats.raw import RawFile
from tests.harness import ghcn_data

FORMATS = {"csv": "ghcn_csv", "dly": "ghcn_dly"}

# Bytes in the files of this database's temporary tables, those waiting for
# the commit to be deleted included (their names open with "t").
TEMP_BYTES = """
SELECT coalesce(sum((pg_stat_file(folder || '/' || name)).size), 0)
FROM (SELECT 'base/' || oid AS folder FROM pg_database WHERE datname = current_database()) d,
     pg_ls_dir(folder) AS name
WHERE name LIKE 't%'
"""


@pytest.mark.parametrize("fmt", ["csv", "dly"])
def test_a_batch_holds_no_more_staging_than_one_file(
    database_url: str, tmp_path: Path, fmt: ghcn_data.Format
) -> None:
    writer = ghcn_data.write_csv if fmt == "csv" else ghcn_data.write_dly
    files = []
    for station in range(4):
        path = tmp_path / ghcn_data.file_name(fmt, station)
        writer(path, [station], years=30)
        files.append(path)

    left = []
    with psycopg.connect(database_url) as conn:
        load.prepare_session(conn)
        with conn.transaction():
            for path in files:
                raw = RawFile(path.name, FORMATS[fmt], path.stat().st_size)
                with conn.transaction():
                    pivoted = pivot.stage(conn, raw, [path.read_bytes()], target="observation")
                assert pivoted is not None
                found = conn.execute(TEMP_BYTES).fetchone()
                assert found is not None
                left.append(int(found[0]))

    # What each file leaves: an empty index page or two (TRUNCATE makes new
    # ones), not its lines (each file here is 0.4 to 1.6 MB).
    growth = [after - before for before, after in itertools.pairwise(left)]
    assert max(growth) <= 4 * 8192, (left, growth)
