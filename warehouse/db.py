"""Database access shared by the job and the API: connection strings, connections, pools.

Connection failures become :class:`DatabaseUnavailable` with a message that
names host, port, database and user, never the password.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import psycopg
from psycopg import conninfo as pg_conninfo
from psycopg_pool import AsyncConnectionPool

from warehouse import sampling
from warehouse.errors import ConfigError, DatabaseTimeout, DatabaseUnavailable, first_line
from warehouse.settings import Settings
from warehouse.tracing import tracer

log = logging.getLogger("warehouse.db")
T = TypeVar("T")

# TCP keepalives and a user timeout: a peer that vanished (a failover, a
# partition, a dropped NAT entry) is noticed in about a minute instead of the
# kernel's two hours; a connection whose writes go unacknowledged for 60 s
# is dropped. A server that is alive but frozen still acknowledges, which
# only a client-side deadline catches (BoundedPool.run). A connection URL
# that sets any of these keeps its own values.
TCP_KEEPALIVES: dict[str, str | int] = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 60_000,
}


def conninfo(
    settings: Settings,
    *,
    read: bool = False,
    application_name: str = "weather-warehouse",
    statement_timeout_ms: int | None = None,
    read_only: bool = False,
) -> str:
    """Build a libpq connection string from the settings.

    ``read=True`` prefers ``DATABASE_READ_URL`` (a read replica) when set;
    ``read_only=True`` makes the server refuse writes on the connection.
    Unset parts fall through to libpq's own ``PG*`` environment variables.
    """
    url = settings.database_read_url if read and settings.database_read_url else None
    url = url or settings.database_url
    base = url.get_secret_value() if url is not None else ""
    extra: dict[str, str | int] = {
        "connect_timeout": settings.database_connect_timeout_s,
        "application_name": application_name,
    }
    given = _parameters(base)
    extra.update({key: value for key, value in TCP_KEEPALIVES.items() if key not in given})
    if url is None:
        for key, value in (
            ("host", settings.pghost),
            ("port", settings.pgport),
            ("dbname", settings.pgdatabase),
            ("user", settings.pguser),
        ):
            if value is not None:
                extra[key] = value
    password = settings.database_password()
    if password is not None:
        extra["password"] = password
    options = []
    if statement_timeout_ms is not None:
        options.append(f"-c statement_timeout={statement_timeout_ms}")
    if read_only:
        options.append("-c default_transaction_read_only=on")
    if options:
        extra["options"] = " ".join(options)
    try:
        return pg_conninfo.make_conninfo(base, **extra)
    except psycopg.ProgrammingError:
        # The parser's message may quote the URL, password included: say less.
        source = "DATABASE_READ_URL" if read and settings.database_read_url else "DATABASE_URL"
        raise ConfigError(f"{source} is not a valid PostgreSQL connection URL") from None


def _parameters(url: str) -> dict[str, Any]:
    try:
        return pg_conninfo.conninfo_to_dict(url) if url else {}
    except psycopg.ProgrammingError:
        return {}  # make_conninfo below reports it without echoing the URL


def describe(info: str) -> str:
    """``host:port/dbname as user``, for messages; never includes the password."""
    params = pg_conninfo.conninfo_to_dict(info)
    host = params.get("host") or params.get("hostaddr") or "localhost"
    port = params.get("port") or "5432"
    where = f"{host}:{port}/{params.get('dbname') or params.get('user') or '?'}"
    user = params.get("user")
    return f"{where} as {user}" if user else where


def unavailable(info: str, exc: BaseException) -> DatabaseUnavailable:
    """A :class:`DatabaseUnavailable` for ``exc`` with the password scrubbed."""
    reason = first_line(exc)
    password = pg_conninfo.conninfo_to_dict(info).get("password")
    if password:
        reason = reason.replace(str(password), "***")
    return DatabaseUnavailable(f"cannot connect to PostgreSQL at {describe(info)}: {reason}")


def connect(
    settings: Settings,
    *,
    autocommit: bool = False,
    application_name: str = "weather-warehouse",
) -> psycopg.Connection[tuple[object, ...]]:
    """Open one synchronous connection (the job and migrations use these)."""
    info = conninfo(settings, application_name=application_name)
    try:
        return psycopg.connect(info, autocommit=autocommit)
    except psycopg.OperationalError as exc:
        raise unavailable(info, exc) from None


def async_pool(
    settings: Settings,
    *,
    read: bool = True,
    application_name: str = "weather-warehouse-api",
) -> BoundedPool:
    """An unopened async pool whose connections are checked before use when idle.

    The caller opens it (``await pool.open()``) in the app's lifespan. Opening
    does not wait for the database, so the API starts (and answers 503) while
    the database is away, and recovers when it returns.
    """
    info = conninfo(
        settings,
        read=read,
        application_name=application_name,
        statement_timeout_ms=settings.database_statement_timeout_ms,
        # The API never writes; the server refuses it too, should a bug try.
        read_only=read,
    )
    idle = IdleCheck()
    call_timeout = settings.database_call_timeout_s()
    pool_class = TracedPool if settings.tracing_enabled else BoundedPool
    return pool_class(
        info,
        call_timeout_s=call_timeout,
        min_size=settings.database_pool_min_size,
        max_size=settings.database_pool_max_size,
        open=False,
        # The API only reads: autocommit spares a BEGIN and a ROLLBACK per request.
        kwargs={"autocommit": True},
        check=idle.check,
        timeout=min(float(settings.database_connect_timeout_s), call_timeout),
        name="read" if read else "primary",
    )


class BoundedPool(AsyncConnectionPool):
    """A pool whose :meth:`run` answers within a deadline, even if the server never does.

    The statement timeout is enforced by the server: a frozen or unreachable
    server enforces nothing, and psycopg's own cancellation of an interrupted
    query waits for that same server (up to 10 s). So the work runs in a task
    of its own; at the deadline the caller gets :class:`DatabaseTimeout` at
    once, and the task is cancelled and left to finish in the background,
    where the pool discards its connection.
    """

    def __init__(self, *args: Any, call_timeout_s: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.call_timeout_s = call_timeout_s
        self._abandoned: set[asyncio.Task[Any]] = set()

    async def run(
        self,
        work: Callable[[psycopg.AsyncConnection[Any]], Awaitable[T]],
        *,
        timeout: float | None = None,
    ) -> T:
        """``work`` on a pooled connection, bounded by ``timeout`` (default: the call timeout)."""
        limit = self.call_timeout_s if timeout is None else timeout
        task = asyncio.create_task(self._borrow(work, limit))
        try:
            return await asyncio.wait_for(asyncio.shield(task), limit)
        except TimeoutError:
            raise DatabaseTimeout(f"no answer within {limit:g} s") from None
        finally:
            if not task.done():
                self._abandon(task)

    async def _borrow(
        self, work: Callable[[psycopg.AsyncConnection[Any]], Awaitable[T]], limit: float
    ) -> T:
        async with self.connection(timeout=min(self.timeout, limit)) as conn:
            return await work(conn)

    def _abandon(self, task: asyncio.Task[Any]) -> None:
        task.cancel()
        self._abandoned.add(task)  # a reference, so that the task is not collected
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[Any]) -> None:
        self._abandoned.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.debug("abandoned database call ended: %r", task.exception())


class IdleCheck:
    """Check a pooled connection before use only if it sat idle for a while.

    A connection lent out a moment ago just worked; pinging it again would
    double the round trips of a busy API. One that idled may have been cut
    (database restart, failover, a NAT or proxy timeout) and is pinged first;
    the pool replaces it if the ping fails. (Lending time stands in for return
    time: requests hold a connection for milliseconds, and a ``reset``
    callback would make the pool return every connection through a worker.)
    """

    AFTER_IDLE_S = 1.0

    def __init__(self) -> None:
        self._lent_at: weakref.WeakKeyDictionary[psycopg.AsyncConnection[object], float] = (
            weakref.WeakKeyDictionary()
        )

    async def check(self, conn: psycopg.AsyncConnection[object]) -> None:
        """Pool ``check`` callback: ping unless the connection was in use just now."""
        now = time.monotonic()
        lent_at = self._lent_at.get(conn)
        if lent_at is None or now - lent_at > self.AFTER_IDLE_S:
            await AsyncConnectionPool.check_connection(conn)
        self._lent_at[conn] = now


# Advisory lock keys (pg_advisory_lock takes a bigint). Fixed, distinct
# values so that migrations and ingest runs never wait on each other.
MIGRATION_LOCK_KEY = 0x5757_0001
INGEST_LOCK_KEY = 0x5757_0002
# The class of the per-shard locks (two-key advisory locks: class, shard index).
INGEST_SHARD_LOCK_CLASS = 0x5757_0003
# The class of the shard-count locks (class, N), held shared by every shard of a
# run of N shards: a shard of another N sees them and refuses (no double work).
INGEST_SHARD_COUNT_CLASS = 0x5757_0004


class TracedPool(BoundedPool):
    """A pool that traces the requests the API samples: the wait for a connection
    (``db.pool.wait``) and, while a traced request holds it, each SQL statement.

    The psycopg instrumentation gives each new connection a traced cursor class,
    whose every statement asks OpenTelemetry whether to make a span. The pool
    keeps that class aside and lends the connection with psycopg's plain cursor,
    putting the traced one back only for a traced request: an unsampled request
    runs no tracing code per statement.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._traced_cursors: weakref.WeakKeyDictionary[psycopg.AsyncConnection[Any], Any] = (
            weakref.WeakKeyDictionary()
        )

    async def getconn(self, timeout: float | None = None) -> psycopg.AsyncConnection[Any]:
        if not sampling.traced():  # no span, not even a root of its own
            conn = await super().getconn(timeout)
            if conn.cursor_factory is not psycopg.AsyncCursor:  # new: the instrumentation's
                self._plain_cursors(conn)
            return conn
        with tracer.start_as_current_span("db.pool.wait", attributes={"db.pool.name": self.name}):
            conn = await super().getconn(timeout)
        conn.cursor_factory = self._traced_cursors.get(conn, conn.cursor_factory)
        return conn

    async def putconn(self, conn: psycopg.AsyncConnection[Any]) -> None:
        if conn.cursor_factory is not psycopg.AsyncCursor:
            self._plain_cursors(conn)
        await super().putconn(conn)

    def _plain_cursors(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self._traced_cursors.setdefault(conn, conn.cursor_factory)
        conn.cursor_factory = psycopg.AsyncCursor
