"""The real server: graceful SIGTERM, client disconnects mid-stream, metrics, docs."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import psycopg

from tests.api.live import LiveServer, serving
from tests.api.loaded import STATIONS
from tests.harness import postgres
from tests.harness.waiting import wait_for


def metric(text: str, name: str) -> float:
    """The value of an unlabelled (or first-labelled) sample ``name`` in an exposition."""
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not exposed")


def test_a_client_that_disconnects_mid_stream_leaks_no_connection(
    live: LiveServer, loaded_url: str
) -> None:
    with httpx.Client(base_url=live.url, timeout=30) as client:
        with client.stream("GET", "/api/weather?format=csv") as response:
            assert response.status_code == 200
            next(response.iter_bytes())  # the first chunk, then hang up

        # Every connection goes back to the pool; none stays busy in PostgreSQL.
        def all_returned() -> bool:
            text = client.get("/metrics").text
            in_use = metric(text, "weather_warehouse_db_pool_connections_in_use")
            return in_use == 0 and _active_api_queries(loaded_url) == 0

        wait_for(all_returned, "every connection back in the pool, none busy in PostgreSQL")
        assert client.get("/api/yield").status_code == 200


def _active_api_queries(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'weather-warehouse-api'"
            " AND state = 'active'"
        ).fetchone()
    assert row is not None
    return int(str(row[0]))


def test_metrics_count_requests_by_route_template(live: LiveServer) -> None:
    with httpx.Client(base_url=live.url) as client:
        client.get(f"/api/stations/{STATIONS[0]}")
        client.get("/api/no/such/path")
        text = client.get("/metrics").text
    assert (
        'weather_warehouse_http_requests_total{method="GET",'
        'route="/api/stations/{station_id}",status="200"}'
    ) in text
    assert 'route="unmatched",status="404"' in text
    assert STATIONS[0] not in text  # never the raw path
    for name in (
        "weather_warehouse_http_request_duration_seconds_bucket",
        "weather_warehouse_http_requests_in_flight",
        'weather_warehouse_db_pool_size{pool="read"}',
        'weather_warehouse_db_pool_requests_waiting{pool="read"}',
    ):
        assert name in text
    assert metric(text, "weather_warehouse_last_ingest_success_timestamp_seconds") > 0
    # The newest observation in the loaded files is 2014-12-31.
    assert metric(text, "weather_warehouse_latest_observation_timestamp_seconds") == 1419984000


def test_docs_are_served_from_local_assets(live: LiveServer) -> None:
    with httpx.Client(base_url=live.url) as client:
        page = client.get("/docs")
        assert page.status_code == 200
        assert "https://" not in page.text  # no CDN
        assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
        assert client.get("/docs/assets/swagger-ui.css").status_code == 200
        document = client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert {"/api/weather", "/api/weather/stats", "/api/yield", "/api/stations"} <= set(
        document["paths"]
    )


def test_sigterm_lets_the_request_in_flight_finish(loaded_url: str) -> None:
    (count,) = postgres.rows(loaded_url, "SELECT count(*) FROM observation")[0]
    with serving(loaded_url) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        with client.stream("GET", "/api/weather?format=csv") as response:
            chunks = response.iter_bytes()
            lines = next(chunks).count(b"\n")
            server.process.send_signal(signal.SIGTERM)
            lines += sum(chunk.count(b"\n") for chunk in chunks)
        assert lines == 1 + count  # the header and every row: nothing cut short
        assert server.process.wait(timeout=60) == 0
    assert any("API stopped" in line for line in server.log)


def test_metrics_in_multiprocess_mode(loaded_url: str, tmp_path: Path) -> None:
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    with serving(loaded_url, env=env) as server, httpx.Client(base_url=server.url) as client:
        client.get("/api/yield")
        text = client.get("/metrics").text
    assert (
        'weather_warehouse_http_requests_total{method="GET",route="/api/yield",status="200"}'
        in text
    )
    assert metric(text, "weather_warehouse_last_ingest_success_timestamp_seconds") > 0
    assert any(tmp_path.glob("*.db"))  # the values live in the shared files
