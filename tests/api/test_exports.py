"""CSV exports under load: limited in number, bounded in memory, every row delivered.

Each test runs its own server (``weather-warehouse serve``) so that the
exports it leaves stalled touch no other test's limit or memory.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import psutil
import psycopg
import pytest

from command.postgres_server import EmbeddedPostgres
from tests.api.live import LiveServer, serving
from tests.api.loaded import api_settings, load_real_files
from tests.api.test_errors import assert_problem
from tests.api.test_live_server import metric
from tests.harness import postgres
from tests.harness.waiting import wait_for

EXPORT = "/api/weather?format=csv"
MiB = 2**20
COPIES = 12


@pytest.fixture(scope="module")
def big_url(
    pg_server: EmbeddedPostgres, real_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The real stations loaded by the ingest job, then copied under other ids (~400k rows).

    Large enough that an export does not fit in the kernel's socket buffers,
    so a reader that stops reading really stalls the server's stream.
    """
    name = postgres.new_database(pg_server)
    url = pg_server.url(name)
    load_real_files(api_settings(url), tmp_path_factory.mktemp("export-data"), real_data)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO observation"
            " SELECT station_id || '_' || n, obs_date, tmax_tenths_c, tmin_tenths_c,"
            " prcp_tenths_mm FROM observation, generate_series(1, %s) AS n",
            (COPIES,),
        )
        conn.execute("VACUUM ANALYZE observation")
    yield url
    postgres.drop_database(pg_server, name)


@contextmanager
def stalled_export(server: LiveServer) -> Iterator[int]:
    """Ask for the whole table as CSV, read the response head, then read nothing more."""
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        # A small receive window, so that the server meets a full pipe at once.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
        sock.sendall(f"GET {EXPORT} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            data = sock.recv(1024)
            assert data, head
            head += data
        yield int(head.split(b" ", 2)[1])


def in_flight(client: httpx.Client) -> float:
    """Requests the server is handling besides the one that asks."""
    return metric(client.get("/metrics").text, "weather_warehouse_http_requests_in_flight") - 1


def test_exports_beyond_the_limit_get_a_503_until_one_ends(big_url: str) -> None:
    with (
        serving(big_url, env={"EXPORT_MAX_CONCURRENT": "2"}) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
        ExitStack() as stack,
    ):
        first = stack.enter_context(stalled_export(server))
        second = stack.enter_context(stalled_export(server))
        assert (first, second) == (200, 200)

        refused = client.get(EXPORT)
        body = assert_problem(refused, 503)
        assert "too many exports in progress (2 at most" in body["detail"]
        assert int(refused.headers["retry-after"]) > 0
        assert client.get("/api/weather?limit=5").status_code == 200  # pages are not limited

        stack.close()  # both readers hang up; their slots come back
        wait_for(lambda: in_flight(client) == 0, "the stalled exports to end")
        with client.stream("GET", EXPORT) as response:
            assert response.status_code == 200


def test_stalled_readers_hold_little_memory(big_url: str) -> None:
    exports = 8
    with (
        serving(big_url, env={"EXPORT_MAX_CONCURRENT": str(exports)}) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
        ExitStack() as stack,
    ):
        process = psutil.Process(server.process.pid)
        assert client.get("/api/weather?limit=1000").status_code == 200  # warm
        before = process.memory_info().rss
        for _ in range(exports):
            assert stack.enter_context(stalled_export(server)) == 200
        # The exports run until their pipes are full, then wait. Sample the
        # server's memory over many round trips to it (bounded, no sleeping).
        peak = before
        for _ in range(100):
            assert in_flight(client) == exports
            peak = max(peak, process.memory_info().rss)
        # A chunk of 20,000 rows held per waiting export was 5 to 8 MiB each.
        assert (peak - before) / MiB < 2 * exports, f"+{(peak - before) / MiB:.1f} MiB"


def test_a_slow_reader_still_gets_every_row(loaded_url: str) -> None:
    with (
        serving(loaded_url) as server,
        httpx.stream(
            "GET", f"{server.url}/api/weather?format=csv&station_id=USC00110072", timeout=60
        ) as response,
    ):
        assert response.status_code == 200
        lines = 0
        for chunk in response.iter_bytes(chunk_size=4096):  # small reads: a slow client
            lines += chunk.count(b"\n")
    (expected,) = postgres.rows(
        loaded_url, "SELECT count(*) FROM observation WHERE station_id = 'USC00110072'"
    )
    assert lines - 1 == expected[0]
