"""A running Weather Warehouse for the observability tests, started once per module.

A database role with a password (the harness trusts only ``postgres``), a
real ingest run that pushes to a real Pushgateway, the real API serving
that database, and on demand a real Prometheus scraping both.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from command.postgres_server import EmbeddedPostgres
from tests import cli
from tests.harness import postgres, process, prometheus, pushgateway
from tests.harness.waiting import wait_for
from tests.observability import chart
from tests.observability.system import (
    API_JOB,
    PASSWORD,
    PUSHGATEWAY_JOB,
    ROLE,
    STATIONS,
    System,
    send_traffic,
)
from tests.tools import require
from warehouse.ports import free_port


def _create_role(server: EmbeddedPostgres, database: str) -> None:
    # Membership of the owner role gives the table owner's rights (the bulk
    # loader needs them) without the superuser attribute.
    with postgres.admin(server) as conn:
        conn.execute(f"DROP ROLE IF EXISTS {ROLE}")
        conn.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}' IN ROLE postgres")
    with psycopg.connect(server.url(database), autocommit=True) as conn:
        conn.execute(f"GRANT ALL ON DATABASE {database} TO {ROLE}")


def _drop_role(server: EmbeddedPostgres) -> None:
    with postgres.admin(server) as conn:
        conn.execute(f"DROP ROLE IF EXISTS {ROLE}")


def _with_password(url: str) -> str:
    scheme, rest = url.split("://", 1)
    rest = rest.split("@", 1)[1] if "@" in rest else rest
    return f"{scheme}://{ROLE}:{PASSWORD}@{rest}"


@pytest.fixture(scope="module")
def system(
    pg_server: EmbeddedPostgres,
    _pushgateway_server: str,
    real_data: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[System]:
    """Ingest two real station files and the yield file, then serve them."""
    folder = tmp_path_factory.mktemp("system")
    name = postgres.new_database(pg_server)
    _create_role(pg_server, name)
    url = _with_password(pg_server.url(name))
    pushgateway.reset(_pushgateway_server)
    sources = [real_data / "wx_data" / s for s in STATIONS]
    sources.append(real_data / "yld_data" / "US_corn_grain_yield.txt")
    ingest = cli.run(
        "ingest",
        *[arg for source in sources for arg in ("--source", str(source))],
        env={"DATABASE_URL": url, "PUSHGATEWAY_URL": _pushgateway_server},
    )
    assert ingest.returncode == 0, ingest.stderr
    port = free_port()
    api_log = folder / "api.log"
    env = {"DATABASE_URL": url, "LOG_FORMAT": "json", "LOG_LEVEL": "DEBUG"}
    with api_log.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "command", "serve", "--host", "127.0.0.1",
             "--port", str(port)],
            env=cli.command_env(env), stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    api = f"http://127.0.0.1:{port}"
    try:
        process.wait_until_up(api + "/readyz", server, "the API", timeout=60)
        send_traffic(api)
        yield System(url, api, api_log, _pushgateway_server, ingest, folder)
    finally:
        server.terminate()
        server.wait(timeout=30)
        postgres.drop_database(pg_server, name)
        _drop_role(pg_server)


def _scraped(url: str, expr: str) -> list[Any]:
    found: list[Any] = prometheus.query(url, expr)["data"]["result"]
    return found


@pytest.fixture(scope="module")
def prometheus_url(system: System) -> Iterator[str]:
    """A real Prometheus scraping the API and the Pushgateway every second, with the
    chart's alert rules loaded; yielded once both scrapes have landed."""
    rules = system.folder / "rules.yaml"
    spec = chart.only(chart.render(), "PrometheusRule")["spec"]
    rules.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    jobs = [
        prometheus.scrape_job(
            API_JOB, system.api.removeprefix("http://"), labels={"namespace": chart.NAMESPACE}
        ),
        prometheus.scrape_job(
            "pushgateway", system.pushgateway.removeprefix("http://"), honor_labels=True
        ),
    ]
    binary = require("prometheus")
    with prometheus.running_server(binary, system.folder / "prometheus", jobs, [rules]) as url:
        for expr in (
            f'weather_warehouse_http_requests_total{{job="{API_JOB}"}}',
            f'weather_warehouse_ingest_success{{job="{PUSHGATEWAY_JOB}"}}',
        ):
            wait_for(partial(_scraped, url, expr), f"Prometheus to scrape {expr}")
        yield url
