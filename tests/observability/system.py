"""What the observability tests look at: the running system's addresses, and traffic to it."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.harness.http import get

ROLE = "ww_observed"
# Distinctive, so that finding it anywhere in an output is never a coincidence.
PASSWORD = "pw-Obs3rv-9f2c7d"
PUSHGATEWAY_JOB = "weather_warehouse_ingest"
STATIONS = ("USC00110072.txt", "USC00110187.txt")
API_JOB = "ww-weather-warehouse"  # the Service name, as a ServiceMonitor scrape names the job


@dataclass(frozen=True)
class System:
    """What the tests look at: URLs, the API's log file, the ingest run's output."""

    database_url: str
    api: str
    api_log: Path
    pushgateway: str
    ingest: subprocess.CompletedProcess[str]
    folder: Path


TRAFFIC = (
    "/api/weather",
    "/api/weather?station_id=USC00110072",
    "/api/weather/stats",
    "/api/yield",
    "/api/stations",
    "/api/stations/USC00110072",
    "/api/stations/USC99999999",
    "/healthz",
    "/readyz",
    "/openapi.json",
    "/no/such/page",
)


def send_traffic(api: str) -> None:
    """Requests to every kind of route, some answered with 4xx."""
    for path in TRAFFIC:
        get(api + path)
