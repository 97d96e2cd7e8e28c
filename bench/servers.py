"""Servers the benchmarks start: a throwaway PostgreSQL loaded by the ingest job, and the API.

Built on the test harness (``tests/harness``) so that the benches and the tests
start their servers the same way.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil
import psycopg
from pydantic import SecretStr

from command.postgres_server import EmbeddedPostgres
from ingest_job.run import ingest
from tests.harness.postgres import running_server
from tests.harness.process import wait_until_up
from warehouse import migrate
from warehouse.ports import free_port
from warehouse.settings import Settings

REPO = Path(__file__).resolve().parent.parent


@contextmanager
def throwaway_postgres(prefix: str) -> Iterator[tuple[Path, EmbeddedPostgres]]:
    """A PostgreSQL (fsync off) in a fresh temporary folder; yields the folder and the server."""
    base = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        with running_server(base) as server:
            yield base, server
    finally:
        shutil.rmtree(base, ignore_errors=True)


@dataclass(frozen=True)
class Loaded:
    """What the ingest job loaded, and how long it took."""

    rows: int
    seconds: float


def load(url: str, sources: Sequence[Path]) -> Loaded:
    """Migrate, load ``sources`` through the ingest job (as production does), VACUUM ANALYZE."""
    with psycopg.connect(url, autocommit=True) as conn:
        migrate.migrate(conn)
    settings = Settings(database_url=SecretStr(url), log_format="text", log_level="WARNING")
    started = time.perf_counter()
    report = ingest(settings, [str(source) for source in sources])
    loaded = Loaded(report.rows_inserted, time.perf_counter() - started)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return loaded


@dataclass(frozen=True)
class Api:
    """A running ``weather-warehouse serve``: its base URL, port and process."""

    url: str
    port: int
    process: psutil.Process

    def rss(self) -> int:
        """The server process's resident memory, in bytes."""
        return int(self.process.memory_info().rss)


@contextmanager
def serving(database_url: str, env: dict[str, str] | None = None) -> Iterator[Api]:
    """``weather-warehouse serve`` (one worker) on a free port, up once ``/readyz`` answers 200.

    ``env`` adds to (or overrides) the environment; stopped with SIGTERM afterwards.
    """
    port = free_port()
    environment = {**os.environ, "DATABASE_URL": database_url, "LOG_FORMAT": "json", **(env or {})}
    command = [str(REPO / ".venv" / "bin" / "weather-warehouse"), "serve", "--port", str(port)]
    process = subprocess.Popen(
        command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/readyz", process, "the API", timeout=60)
        yield Api(url, port, psutil.Process(process.pid))
    finally:
        process.terminate()
        process.wait(timeout=60)
