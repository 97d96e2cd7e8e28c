"""``weather-warehouse demo``: the whole warehouse on this machine (``make run``).

It starts a private PostgreSQL server whose data lives under
``WAREHOUSE_DATA_DIR`` (``.data/`` by default), brings the schema up to date,
ingests a data set (the folders given with ``--data``, a generated sample
with ``--seed``, else the real data set shipped in ``data/``), and serves
the API on 127.0.0.1 until Ctrl-C. Whatever happens after the server starts,
it is stopped on the way out, so no PostgreSQL process outlives the demo. A
second run reuses the database; the idempotent ingest then finds nothing new.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import secrets
import signal
import socket
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from types import FrameType
from typing import TextIO

import psycopg
from psycopg import sql
from pydantic import SecretStr

from command import demo_database, real_data, sample_data
from command.postgres_server import EmbeddedPostgres
from warehouse import db, migrate
from warehouse.errors import ConfigError
from warehouse.settings import Settings

log = logging.getLogger("command.demo")

DATABASE = "weather_warehouse"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--data DIR`` (repeatable), ``--host``, ``--port``, ``--seed``."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--data",
        action="append",
        type=Path,
        metavar="DIR",
        help="a folder (or file) of station, yield or GHCN-Daily files to ingest; repeat it, "
        "or name a folder holding such folders (e.g. wx_data/ and yld_data/). "
        "Without it (and without --seed), the real data set shipped in data/ is loaded",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address the API listens on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=_port, default=None, help="port of the API (default: $PORT, else 8000)"
    )
    source.add_argument(
        "--seed",
        type=int,
        default=None,
        help="load a generated sample of invented stations made from this seed instead",
    )


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port (1-65535)")
    return int(text)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Start PostgreSQL, migrate, ingest, serve until interrupted; always stop PostgreSQL."""
    port: int = args.port if args.port is not None else settings.port
    ensure_port_free(args.host, port)
    home = settings.warehouse_data_dir.resolve()
    home.mkdir(parents=True, exist_ok=True)
    with sigterm_exits():
        sources = chosen_sources(args, home)
        with demo_database.running(home) as server:
            return _run(settings, server, home, sources, host=args.host, port=port)


def _run(
    settings: Settings,
    server: EmbeddedPostgres,
    home: Path,
    sources: list[str],
    *,
    host: str,
    port: int,
) -> int:
    from ingest_job.run import ingest
    from service.cli import serve

    local = local_settings(settings, server, home)
    with db.connect(local, autocommit=True, application_name="weather-warehouse-demo") as conn:
        migrate.migrate(conn)
    report = ingest(local, sources)
    if report.fatal is not None:
        _say(f"weather-warehouse demo: error: {report.error}", sys.stderr)
        return int(report.fatal)
    _say(
        f"Ingested {', '.join(_shown(Path(s)) for s in sources)}: "
        f"{report.files_loaded} files loaded, {report.files_skipped} unchanged, "
        f"{report.files_rejected + report.files_failed} rejected; "
        f"{report.rows_inserted:,} rows inserted, {report.rows_updated:,} updated, "
        f"{report.rows_rejected:,} rejected."
    )
    for problem in report.problems[:5]:
        _say(f"  not loaded: {problem}")
    announce_when_up(host, port, banner(host, port, example_station(local)))
    return serve(local, host, port)


def ensure_port_free(host: str, port: int) -> None:
    """Fail with a one-line :class:`ConfigError` unless ``host:port`` can be listened on."""
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"port {port} on {host} is already in use: stop what listens there, "
                f"or choose another port (make run PORT=8001, or --port 8001)"
            ) from None
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


@contextmanager
def sigterm_exits() -> Iterator[None]:
    """Turn SIGTERM into SystemExit, so that ``finally`` blocks run and stop the server."""

    def _exit(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, _exit)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def local_settings(settings: Settings, server: EmbeddedPostgres, home: Path) -> Settings:
    """``settings`` pointed at the demo database of ``server`` (created if missing)."""
    try:
        conn = psycopg.connect(server.url(), autocommit=True)
    except psycopg.OperationalError as exc:
        raise db.unavailable(server.url(), exc) from None
    with conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
        if found.fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
    return settings.model_copy(
        update={
            "database_url": SecretStr(server.url(DATABASE)),
            "database_read_url": None,
            "database_password_file": None,
            "pgpassword": None,
            "cursor_secret": settings.cursor_secret or cursor_secret(home),
        }
    )


def cursor_secret(home: Path) -> SecretStr:
    """A cursor-signing key kept in ``home``, so that page links survive a restart."""
    path = home / "cursor-secret"
    if not path.is_file():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(32))
    return SecretStr(path.read_text().strip())


def chosen_sources(args: argparse.Namespace, home: Path) -> list[str]:
    """``--data``, else the sample of ``--seed``, else the real data set shipped in data/."""
    if args.data:
        return data_sources(args.data)
    if args.seed is not None:
        return [str(sample(home, args.seed))]
    if not real_data.archives_present():  # an installed package, without the checkout's data/
        _say(f"The real data set is not in this installation ({real_data.ARCHIVES}).")
        return [str(sample(home, sample_data.DEFAULT_SEED))]
    return shipped_data(home)


def shipped_data(home: Path) -> list[str]:
    """The real stations and yields of data/, unpacked into ``home`` once."""
    folder = real_data.unpacked(home)
    stations = sum(1 for _ in (folder / "wx_data").glob("*.txt"))
    _say(
        f"Loading the REAL data set shipped in data/: {stations} weather stations "
        "(NOAA GHCN-Daily, 1985-2014) with their names and places from NOAA's station "
        "inventory, and the US corn-grain yield series, "
        f"unpacked in {_shown(folder)}. Invented stations instead: make run SEED=1; "
        "your own files: make run DATA=/path/to/folder"
    )
    # The inventory gives the stations their names and places (search, nearest).
    return [str(folder / "wx_data"), str(folder / "yld_data"), str(folder / "stations")]


def sample(home: Path, seed: int) -> Path:
    """The generated sample data set for ``seed``, generated now if missing."""
    spec = sample_data.SampleSpec(seed=seed)
    folder = home / "sample" / f"seed-{seed}"
    verb = "Generated" if sample_data.ensure(folder, spec) else "Using the previously generated"
    _say(
        f"{verb} SAMPLE data set in {_shown(folder)}: {spec.stations} invented stations, "
        f"{spec.first_year}-{spec.last_year}, seed {seed}. These are not real observations; "
        "the real data set: make run (without SEED)"
    )
    return folder


def data_sources(paths: Sequence[Path]) -> list[str]:
    """The ingest sources for ``--data``.

    A file, or a folder of files, is loaded as given. A folder that holds
    folders of files (``data/wx_data/``, ``data/yld_data/``) stands for those
    folders; files beside them (a README, a SOURCE note) are not data and are
    left out, with a log line.
    """
    sources: list[str] = []
    for path in paths:
        if not path.exists():
            raise ConfigError(f"--data {path}: no such file or folder")
        if path.is_file():
            sources.append(str(path.resolve()))
            continue
        inner = [p for p in sorted(path.iterdir()) if p.is_dir() and any(_files(p))]
        if inner:
            sources.extend(str(p.resolve()) for p in inner)
            left_out = sorted(p.name for p in _files(path))
            if left_out:
                log.info("not loaded: files beside the data folders", extra={"files": left_out})
        elif any(_files(path)):
            sources.append(str(path.resolve()))
        else:
            raise ConfigError(f"--data {path}: no data files in it, nor in the folders inside it")
    return sources


def _files(folder: Path) -> Iterator[Path]:
    return (p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def example_station(settings: Settings) -> tuple[str, date] | None:
    """A loaded station with the most observations, and its first date, for the examples."""
    with db.connect(settings, application_name="weather-warehouse-demo") as conn:
        row = conn.execute(
            "SELECT station_id, first_date FROM station WHERE first_date IS NOT NULL "
            "ORDER BY observation_count DESC, station_id LIMIT 1"
        ).fetchone()
    if row is None:
        return None
    station_id, first_date = row
    assert isinstance(station_id, str)
    assert isinstance(first_date, date)
    return station_id, first_date


def announce_when_up(host: str, port: int, text: str) -> None:
    """Print ``text`` once the API answers ``/healthz``, so it ends up below the server's log.

    A background thread polls for at most a minute; it dies with the process.
    """
    url = f"{base_url(host, port)}/healthz"

    def wait_then_say() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=1):  # noqa: S310 (our http URL)
                    _say(text)
                    return
            except OSError:  # not listening yet (URLError is an OSError)
                time.sleep(0.05)

    threading.Thread(target=wait_then_say, name="demo-banner", daemon=True).start()


def base_url(host: str, port: int) -> str:
    """The API's address as a browser on this machine reaches it."""
    # A server on every interface is reachable on the loopback one.
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104
    return f"http://{f'[{shown}]' if ':' in shown else shown}:{port}"


def banner(host: str, port: int, station: tuple[str, date] | None) -> str:
    """Where to look once the API is up: the page, docs, example queries, metrics."""
    base = base_url(host, port)
    lines = [
        "",
        f"Weather Warehouse API on {base}  (Ctrl-C stops the API, then PostgreSQL)",
        f"  Look:      {base}/ in a browser (stations on a map, charts: {base}/explore)",
        f"  API docs:  {base}/docs",
        "  Try:",
        f"    curl '{base}/api/stations?limit=5'",
    ]
    if station is not None:
        station_id, first = station
        month_end = (first + timedelta(days=30)).isoformat()
        lines += [
            f"    curl '{base}/api/weather?station_id={station_id}"
            f"&start_date={first.isoformat()}&end_date={month_end}'",
            f"    curl '{base}/api/weather/stats?station_id={station_id}'",
            f"    curl '{base}/api/weather/indices?station_id={station_id}'",
            f"    curl '{base}/api/weather?station_id={station_id}&start_date={first.year}-01-01"
            f"&end_date={first.year}-12-31&format=csv' > {station_id}-{first.year}.csv",
        ]
    lines += [
        f"    curl '{base}/api/yield'",
        f"  Metrics:   {base}/metrics",
        f"  Health:    {base}/healthz, {base}/readyz",
        "",
    ]
    return "\n".join(lines)


def _shown(path: Path) -> str:
    """``path`` relative to the working folder when it lies inside it (shorter to read)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _say(text: str, stream: TextIO | None = None) -> None:
    # What the person at the terminal reads: plain lines on stdout, beside the
    # structured log on stderr.
    print(text, file=stream or sys.stdout, flush=True)
