"""The first load into an empty ``observation`` table: one transaction, one COPY.

Every file of the batch is COPYed straight into the table with its primary
key dropped, and the key is rebuilt once: building an index once is much
cheaper than maintaining it row by row, and with the table empty there is
nothing to merge with. A GHCN-Daily by-station CSV or .dly file is parsed by
PostgreSQL (:mod:`ingest_job.pivot`) straight into the table, in a savepoint
of its own: a file the database does not vouch for leaves nothing behind and
is loaded after the batch, one by one. A shard (``ingest --shard I/N``) cannot drop a key
other shards are using: it COPYs into the keyed table and computes the
statistics of its own stations.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager

import psycopg
from psycopg import sql

from ingest_job import ledger, pivot, stats
from ingest_job.formats.base import COLUMNS, Parsed
from ingest_job.formats.raw import RawFile
from ingest_job.load import copy_span
from ingest_job.report import FileResult

Connection = psycopg.Connection[tuple[object, ...]]

# Building the primary key of 1.7 M rows sorts in memory with this much.
_BULK_MAINTENANCE_WORK_MEM = "256MB"


class BulkUnavailable(Exception):
    """The database user may not drop and rebuild the primary key: merge file by file."""


class BulkLoad:
    """The files of a first load into an empty ``observation`` table (see :func:`bulk_load`)."""

    def __init__(self, conn: Connection, keyed: bool = False) -> None:
        self._conn = conn
        # The COPY of parsed files' rows: open while such files come one after another.
        self._copying: AbstractContextManager[psycopg.Copy] | None = None
        self._copy: psycopg.Copy | None = None
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
            and self._fits(parsed.name, parsed.stations)
        )

    def _fits(self, name: str, stations: frozenset[str]) -> bool:
        return self.stations.isdisjoint(stations) and (
            not self.keyed or stations == {_named_station(name)}
        )

    def add(self, parsed: Parsed, result: FileResult) -> None:
        """Stream one file's rows into the batch's COPY; its ledger row follows at the end."""
        self._open_copy().write(parsed.payload)
        self.stations |= parsed.stations
        result.rows_inserted = parsed.rows
        self.loaded.append(result)

    def add_raw(self, raw: RawFile, chunks: Iterable[bytes], result: FileResult) -> bool:
        """Parse a GHCN-Daily file in PostgreSQL straight into the table; False: left out.

        A file the database does not vouch for, or whose stations the batch
        cannot take, is rolled back to before it (a savepoint): the caller
        loads it after the batch, where its parser names its bad lines.
        """
        self.end_copy()
        # A shard stages first: rows of another shard's stations must not
        # reach the shared table, even for a moment (they would wait on that
        # shard's uncommitted rows, then collide).
        target = "stage_observation" if self.keyed else "observation"
        staged = (target,) if self.keyed else ()
        try:
            with self._conn.transaction(), pivot.emptied(self._conn, *staged):
                pivoted = pivot.stage(self._conn, raw, chunks, target=target)
                if pivoted is None or not self._fits(raw.name, pivoted.stations):
                    raise _LeftOut
                if self.keyed:
                    self._conn.execute(_FROM_STAGING)
        except (_LeftOut, psycopg.DataError, psycopg.IntegrityError):
            return False
        parsed = Parsed(raw.name, raw.format, "observation", rows=pivoted.rows,
                        stations=pivoted.stations,
                        values_rejected_qc=pivoted.values_rejected_qc)  # fmt: skip
        result.count(parsed)
        self.stations |= parsed.stations
        result.rows_inserted = parsed.rows
        self.loaded.append(result)
        return True

    def _open_copy(self) -> psycopg.Copy:
        if self._copy is None:
            statement = sql.SQL("COPY observation ({}) FROM STDIN").format(
                sql.SQL(", ").join(map(sql.Identifier, COLUMNS["observation"]))
            )
            self._copying = _copy_into(self._conn, statement)
            self._copy = self._copying.__enter__()
        return self._copy

    def end_copy(self, exc: BaseException | None = None) -> None:
        """Finish the open COPY, if any (with ``exc``: abandon it)."""
        if self._copying is not None:
            copying, self._copying, self._copy = self._copying, None, None
            copying.__exit__(type(exc) if exc else None, exc, exc.__traceback__ if exc else None)


# A shard's staged file into the keyed table (then staging is emptied for the next file).
_FROM_STAGING = """
INSERT INTO observation (station_id, obs_date, tmax_tenths_c, tmin_tenths_c, prcp_tenths_mm)
SELECT station_id, obs_date, tmax_tenths_c, tmin_tenths_c, prcp_tenths_mm FROM stage_observation
"""


class _LeftOut(Exception):
    """A raw file the batch does not take: its savepoint is rolled back."""


@contextmanager
def _copy_into(conn: Connection, statement: sql.Composed) -> Iterator[psycopg.Copy]:
    with copy_span("observation"), conn.cursor() as cur, cur.copy(statement) as copy:
        yield copy


def _named_station(name: str) -> str:
    return name.rsplit("/", 1)[-1].rpartition(".")[0]


@contextmanager
def bulk_load(conn: Connection, run_id: int, *, keyed: bool = False) -> Iterator[BulkLoad]:
    """One transaction for a first load: drop the key, one COPY, rebuild the key, all statistics.

    Parsed files go through one COPY, so that PostgreSQL stores one file's
    rows while the next is parsed; GHCN-Daily files are parsed by PostgreSQL.
    On a clean exit everything commits at once, ledger rows included; on an
    exception nothing does (the table stays empty). The table is locked
    meanwhile: readers wait on the very first load.

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
        bulk = BulkLoad(conn, keyed)
        try:
            yield bulk
        except BaseException as exc:
            bulk.end_copy(exc)
            raise
        bulk.end_copy()
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
