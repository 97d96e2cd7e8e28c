"""A frozen database (its processes stopped with SIGSTOP) must not hang the API.

The server-side statement timeout cannot fire in a server that does not run,
and the kernel still accepts and acknowledges its TCP traffic: only the API's
own deadline answers. Every request below is bounded by the HTTP client's
timeout; without the deadline they hang until the database is resumed.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import psutil
import psycopg
import pytest

from command.postgres_server import EmbeddedPostgres
from ingest_job.run import ingest
from tests.api.live import LiveServer, serving
from tests.api.loaded import api_settings
from tests.api.test_errors import assert_problem
from tests.harness import postgres
from tests.harness.waiting import wait_for
from warehouse import migrate

STATION = "USC00000001"
# With a 1 s statement timeout the API's own deadline is 2 s (1 s more):
# a bound of 6 s per request leaves room for a loaded machine, yet is far
# below the time the database stays frozen (until the test resumes it).
ENV = {"DATABASE_STATEMENT_TIMEOUT_MS": "1000", "DATABASE_CONNECT_TIMEOUT_S": "1"}
REQUEST_BOUND_S = 6.0
# The README's promise for /readyz, plus a second for a busy test machine.
READY_BOUND_S = 3.0


@pytest.fixture
def own_server() -> Iterator[EmbeddedPostgres]:
    """A server of this test's own, so that freezing it disturbs no other test."""
    base = Path(tempfile.mkdtemp(prefix="wh-api-frozen-"))
    try:
        with postgres.running_server(base) as server:
            with psycopg.connect(server.url(), autocommit=True) as conn:
                migrate.migrate(conn)
            data = base / "data"
            data.mkdir()
            (data / f"{STATION}.txt").write_text("20200101\t  10\t  -5\t   0\n")
            ingest(api_settings(server.url()), [str(data)])
            yield server
    finally:
        shutil.rmtree(base, ignore_errors=True)


@contextmanager
def frozen(server: EmbeddedPostgres) -> Iterator[list[psutil.Process]]:
    """Stop the postmaster and every backend it forked; always resume them all."""
    pid = server.pid()
    assert pid is not None
    postmaster = psutil.Process(pid)
    stopped: list[psutil.Process] = []
    try:
        postmaster.send_signal(signal.SIGSTOP)  # first, so that it forks no more
        stopped.append(postmaster)
        for child in postmaster.children(recursive=True):
            child.send_signal(signal.SIGSTOP)
            stopped.append(child)
        for process in stopped:  # until the kernel says so
            wait_for(lambda p=process: p.status() == psutil.STATUS_STOPPED, f"{process} stopped")
        yield stopped
    finally:
        for process in stopped:
            with suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGCONT)


def get(server: LiveServer, path: str, bound: float = REQUEST_BOUND_S) -> httpx.Response:
    return httpx.get(f"{server.url}{path}", timeout=bound)


def test_a_frozen_database_gives_503_within_the_deadline_then_the_api_recovers(
    own_server: EmbeddedPostgres,
) -> None:
    with serving(own_server.url(), env=ENV) as api:
        assert get(api, f"/api/weather?station_id={STATION}").status_code == 200
        assert get(api, f"/api/stations/{STATION}").status_code == 200

        with frozen(own_server) as processes:
            for path in (
                # Another page than the one above: that one is kept rendered in
                # memory (service.lists.response_cache) until the freshness check
                # notices the outage too.
                f"/api/weather?station_id={STATION}&limit=7",
                f"/api/weather?station_id={STATION}&format=csv",
                f"/api/stations/{STATION}",
            ):
                response = get(api, path)
                body = assert_problem(response, 503)
                assert int(response.headers["retry-after"]) > 0
                assert body["detail"].startswith("the database is unavailable")
            assert_problem(get(api, "/readyz", READY_BOUND_S), 503)
            assert get(api, "/healthz").status_code == 200
            assert all(p.status() == psutil.STATUS_STOPPED for p in processes)

        # Resumed: the pool replaces the connections it gave up on.
        statuses: list[int] = []

        def recovered() -> bool:
            statuses.append(get(api, f"/api/weather?station_id={STATION}").status_code)
            return statuses[-1] == 200

        wait_for(recovered, "the API to answer 200 again", timeout=60)
        assert set(statuses) <= {200, 503}
        assert get(api, "/readyz").status_code == 200


def test_concurrent_requests_to_a_frozen_database_all_answer_within_the_deadline(
    own_server: EmbeddedPostgres,
) -> None:
    # More requests than the pool has connections: none may queue behind another's wait.
    paths = [f"/api/weather?station_id={STATION}&limit={n}" for n in range(1, 13)]
    with serving(own_server.url(), env={**ENV, "DATABASE_POOL_MAX_SIZE": "4"}) as api:
        # Warmed up with a page none of the frozen requests asks for: a page
        # rendered before is answered from memory (service.lists.response_cache).
        assert get(api, f"/api/weather?station_id={STATION}&limit=20").status_code == 200
        with frozen(own_server), ThreadPoolExecutor(len(paths)) as threads:
            responses = list(threads.map(lambda path: get(api, path), paths))
            for response in responses:
                assert_problem(response, 503)
