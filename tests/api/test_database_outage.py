"""The database goes away and comes back: 503 with Retry-After, then recovery without a restart."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from starlette.testclient import TestClient

from command.postgres_server import EmbeddedPostgres
from ingest_job.run import ingest
from service.app import create_app
from tests.api.loaded import api_settings
from tests.harness import postgres
from tests.harness.waiting import wait_for
from warehouse import migrate

WEATHER = "/api/weather?station_id=USC00000001"


@pytest.fixture
def own_server() -> Iterator[EmbeddedPostgres]:
    """A server of this test's own, so that stopping it disturbs no other test."""
    base = Path(tempfile.mkdtemp(prefix="wh-api-outage-"))
    try:
        with postgres.running_server(base) as server:
            yield server
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_outage_gives_503_then_the_api_recovers(
    own_server: EmbeddedPostgres, tmp_path: Path
) -> None:
    with psycopg.connect(own_server.url(), autocommit=True) as conn:
        migrate.migrate(conn)
    settings = api_settings(own_server.url(), database_connect_timeout_s=1)
    (tmp_path / "USC00000001.txt").write_text("20200101\t  10\t  -5\t   0\n")
    ingest(settings, [str(tmp_path)])

    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        assert client.get(WEATHER).status_code == 200

        own_server.stop()
        # Another page than the one above: that one is kept rendered in memory
        # (service.lists.response_cache) until the freshness check (at most a second
        # old) notices the outage too.
        response = client.get(WEATHER + "&limit=5")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert int(response.headers["retry-after"]) > 0
        assert client.get("/readyz").status_code == 503
        assert client.get("/healthz").status_code == 200  # liveness never asks the database

        own_server.start()
        # The pool reconnects in the background; each attempt below waits at
        # most the 1 s pool timeout, so this loop is bounded, not timed.
        statuses: list[int] = []

        def recovered() -> bool:
            statuses.append(client.get(WEATHER).status_code)
            return statuses[-1] == 200

        wait_for(recovered, "the API to answer 200 again", timeout=60, every=0)
        assert set(statuses) <= {200, 503}
        assert client.get("/readyz").status_code == 200
