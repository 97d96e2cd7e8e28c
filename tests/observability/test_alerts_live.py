"""The chart's alerts in a real Prometheus, driven by a real failed ingest run."""

from __future__ import annotations

from typing import Any

from tests import cli
from tests.harness import prometheus
from tests.harness.waiting import wait_for
from tests.observability.system import PUSHGATEWAY_JOB, System


def firing(url: str, name: str) -> list[dict[str, Any]] | None:
    alerts = prometheus.api(url, "alerts", {})["data"]["alerts"]
    found = [a for a in alerts if a["labels"]["alertname"] == name and a["state"] == "firing"]
    return found or None


def last_success(url: str) -> float:
    expr = f'weather_warehouse_ingest_last_success_timestamp_seconds{{job="{PUSHGATEWAY_JOB}"}}'
    (sample,) = prometheus.query(url, expr)["data"]["result"]
    return float(sample["value"][1])


def test_a_failed_run_fires_ingest_failed_and_keeps_the_last_success(
    system: System, prometheus_url: str
) -> None:
    assert firing(prometheus_url, "WeatherWarehouseIngestFailed") is None
    succeeded_at = last_success(prometheus_url)
    bad = system.folder / "bad"
    bad.mkdir()
    (bad / "USC00999999.txt").write_text("this is not a station file\n", encoding="utf-8")

    run = cli.run(
        "ingest",
        "--source",
        str(bad),
        env={"DATABASE_URL": system.database_url, "PUSHGATEWAY_URL": system.pushgateway},
    )

    assert run.returncode == 1, run.stderr
    (alert,) = wait_for(
        lambda: firing(prometheus_url, "WeatherWarehouseIngestFailed"), "the alert to fire"
    )
    assert alert["labels"]["severity"] == "warning"
    assert alert["labels"]["job"] == PUSHGATEWAY_JOB
    assert alert["annotations"]["runbook_url"].endswith("#weatherwarehouseingestfailed")
    # Push-add: the failed run left the previous success in place.
    assert last_success(prometheus_url) == succeeded_at
