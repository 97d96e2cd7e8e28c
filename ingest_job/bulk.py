"""The first load into an empty ``observation`` table: one transaction, one COPY.

Every file of the batch is COPYed straight into the table with its primary
key dropped, and the key is rebuilt once: building an index once is much
cheaper than maintaining it row by row, and with the table empty there is
nothing to merge with. A shard (``ingest --shard I/N``) cannot drop a key
other shards are using: it COPYs into the keyed table and computes the
statistics of its own stations.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from ingest_job import ledger, stats
from ingest_job.formats.base import COLUMNS, Parsed
from ingest_job.load import copy_span
from ingest_job.report import FileResult

Connection = psycopg.Connection[tuple[object, ...]]

# Building the primary key of 1.7 M rows sorts in memory with this much.
_BULK_MAINTENANCE_WORK_MEM = "256MB"


class BulkUnavailable(Exception):
    """The database user may not drop and rebuild the primary key: merge file by file."""


class BulkLoad:
    """The files of a first load into an empty ``observation`` table (see :func:`bulk_load`)."""

    def __init__(self, copy: psycopg.Copy, keyed: bool = False) -> None:
        self._copy = copy
        self.keyed = keyed
        self.stations: set[str] = set()
        self.loaded: list[FileResult] = []
        self.station_years = 0

    def accepts(self, parsed: Parsed) -> bool:
        """True for clean observation files whose stations no earlier file carried.

        Disjoint stations guarantee that the rebuilt key cannot collide. A
        shard's batch (``keyed``) takes only files that hold nothing but the
        station they are named for: other shards load the others.
        """
        return (
            parsed.ok
            and not parsed.partial
            and parsed.table == "observation"
            and self.stations.isdisjoint(parsed.stations)
            and (not self.keyed or parsed.stations == {_named_station(parsed.name)})
        )

    def add(self, parsed: Parsed, result: FileResult) -> None:
        """Stream one file's rows into the batch's COPY; its ledger row follows at the end."""
        self._copy.write(parsed.payload)
        self.stations |= parsed.stations
        result.rows_inserted = parsed.rows
        self.loaded.append(result)


def _named_station(name: str) -> str:
    return name.rsplit("/", 1)[-1].rpartition(".")[0]


@contextmanager
def bulk_load(conn: Connection, run_id: int, *, keyed: bool = False) -> Iterator[BulkLoad]:
    """One transaction for a first load: drop the key, one COPY, rebuild the key, all statistics.

    Every file goes through one COPY, so that PostgreSQL stores one file's
    rows while the next is parsed. On a clean exit everything commits at
    once, ledger rows included; on an exception nothing does (the table stays
    empty). The table is locked meanwhile: readers wait on the very first load.

    ``keyed`` (a shard): the key stays, the table is not locked, and only the
    statistics of the batch's stations are computed, so that shards load side by side.
    """
    with conn.transaction():
        if not keyed:
            conn.execute("LOCK TABLE observation IN ACCESS EXCLUSIVE MODE")
            conn.execute(
                "SELECT set_config('maintenance_work_mem', %s, true)",
                (_BULK_MAINTENANCE_WORK_MEM,),
            )
            try:
                conn.execute("ALTER TABLE observation DROP CONSTRAINT observation_pkey")
            except psycopg.errors.InsufficientPrivilege:
                raise BulkUnavailable("the ingest user does not own table observation") from None
        statement = sql.SQL("COPY observation ({}) FROM STDIN").format(
            sql.SQL(", ").join(map(sql.Identifier, COLUMNS["observation"]))
        )
        with copy_span("observation"), conn.cursor() as cur, cur.copy(statement) as copy:
            bulk = BulkLoad(copy, keyed)
            yield bulk
        if bulk.loaded:
            ledger.record(conn, run_id, bulk.loaded)
        if keyed:
            conn.execute("ANALYZE observation")  # see load.analyze
            bulk.station_years = stats.recompute_stations(conn, bulk.stations)
            return
        conn.execute(
            "ALTER TABLE observation ADD CONSTRAINT observation_pkey "
            "PRIMARY KEY (station_id, obs_date)"
        )
        bulk.station_years = stats.recompute_all(conn)
