"""Shards of a run and the advisory locks that keep runs apart.

A whole run holds the ingest advisory lock alone; a shard (``ingest --shard
I/N``) holds it shared (so no whole run can start) plus its own shard lock (so
the same shard cannot run twice), and shards of different indexes run side by
side. Shards of different counts never overlap: their shares would cross.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass

import psycopg

from warehouse.db import INGEST_LOCK_KEY, INGEST_SHARD_COUNT_CLASS, INGEST_SHARD_LOCK_CLASS

Connection = psycopg.Connection[tuple[object, ...]]


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (``ingest --shard I/N``); count 1 is a whole run."""

    index: int = 0
    count: int = 1

    @property
    def whole(self) -> bool:
        return self.count == 1

    def owns(self, station: str) -> bool:
        """Whether ``station`` is this shard's: CRC-32 of its id, stable everywhere."""
        return self.whole or zlib.crc32(station.encode()) % self.count == self.index

    def foreign(self, stations: Iterable[str]) -> list[str]:
        """The ``stations`` that belong to other shards, sorted."""
        return sorted(s for s in stations if not self.owns(s))

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


WHOLE = Shard()


def try_lock(conn: Connection, shard: Shard = WHOLE) -> bool:
    """Take this run's ingest locks for the session, without waiting.

    A whole run takes the ingest lock alone. A shard takes it shared, then the
    lock of its index, then its shard count's lock shared; it holds none of
    them if it cannot have all, or if a shard of another count holds its own:
    shares of different splits overlap, so they would load files twice.
    """
    if shard.whole:
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (INGEST_LOCK_KEY,)).fetchone()
        return bool(row and row[0])
    taken = 0
    for call, args in (
        ("pg_try_advisory_lock_shared(%s)", (INGEST_LOCK_KEY,)),
        ("pg_try_advisory_lock(%s, %s)", (INGEST_SHARD_LOCK_CLASS, shard.index)),
        ("pg_try_advisory_lock_shared(%s, %s)", (INGEST_SHARD_COUNT_CLASS, shard.count)),
    ):
        row = conn.execute(f"SELECT {call}", args).fetchone()
        if not (row and row[0]):
            break
        taken += 1
    else:
        # Checked after taking ours: two counts starting at once both refuse,
        # never both run.
        if not other_shard_counts(conn, shard):
            return True
    _release(conn, shard, taken)
    return False


def other_shard_counts(conn: Connection, shard: Shard) -> list[int]:
    """The shard counts of the other runs whose shards hold this database now."""
    found = conn.execute(
        """SELECT DISTINCT objid::bigint FROM pg_locks
           WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid = %s
             AND objid <> %s AND pid <> pg_backend_pid()
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
           ORDER BY 1""",
        (INGEST_SHARD_COUNT_CLASS, shard.count),
    ).fetchall()
    return [int(str(row[0])) for row in found]


def unlock(conn: Connection, shard: Shard = WHOLE) -> None:
    """Release the ingest locks now.

    Closing the connection would release them too, but only once the server
    process has noticed, which can be after the next run has already tried.
    """
    if shard.whole:
        conn.execute("SELECT pg_advisory_unlock(%s)", (INGEST_LOCK_KEY,))
        return
    _release(conn, shard, 3)


def _release(conn: Connection, shard: Shard, taken: int) -> None:
    """Release the first ``taken`` of a shard's three locks, last taken first."""
    unlocks = (
        ("pg_advisory_unlock_shared(%s)", (INGEST_LOCK_KEY,)),
        ("pg_advisory_unlock(%s, %s)", (INGEST_SHARD_LOCK_CLASS, shard.index)),
        ("pg_advisory_unlock_shared(%s, %s)", (INGEST_SHARD_COUNT_CLASS, shard.count)),
    )
    for call, args in reversed(unlocks[:taken]):
        conn.execute(f"SELECT {call}", args)


def lock_holder(conn: Connection, shard: Shard = WHOLE) -> str:
    """Who holds the lock this run wanted, for the refusal message."""
    if not shard.whole and (counts := other_shard_counts(conn, shard)):
        return (
            "shards of a run split "
            + " and ".join(f"{n} ways" for n in counts)
            + (f", not {shard.count}: wait for them, or run with the same shard count")
        )
    rows = conn.execute(
        """SELECT a.pid, a.application_name, a.client_addr::text, a.backend_start,
                  l.objsubid = 2 AS shard_lock, l.mode
           FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
           WHERE l.locktype = 'advisory' AND l.granted AND a.pid <> pg_backend_pid()
             AND ((l.objsubid = 1 AND ((l.classid::bigint << 32) | l.objid::bigint) = %s)
               OR (l.objsubid = 2 AND l.classid = %s AND l.objid = %s))
           ORDER BY l.objsubid DESC""",
        (INGEST_LOCK_KEY, INGEST_SHARD_LOCK_CLASS, shard.index),
    ).fetchall()
    if not rows:
        return "another session"
    pid, application, client, since, shard_lock, mode = rows[0]
    where = f" from {client}" if client else ""
    what = f"shard {shard.index}, " if shard_lock else ("a shard, " if mode == "ShareLock" else "")
    return (
        f"{what}PostgreSQL backend {pid} ({application or 'unknown client'}{where}, since {since})"
    )


class ForeignStations(Exception):
    """A sharded run met a file holding other shards' stations: it is not loaded."""

    def __init__(self, name: str, stations: list[str]) -> None:
        shown = ", ".join(stations[:5]) + (f" and {len(stations) - 5} more" * (len(stations) > 5))
        super().__init__(
            f"{name}: holds stations of other shards ({shown}); a shard loads only its own"
            " stations, so that no two shards write the same rows or statistics: load this"
            " file with a run without --shard"
        )
        self.message = str(self)
