"""Run metrics (real Pushgateway, CloudWatch on moto) and the one-run-at-a-time lock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import psycopg

from ingest_job.run import ingest
from tests.harness import pushgateway
from tests.harness.postgres import rows
from warehouse.db import INGEST_LOCK_KEY
from warehouse.errors import ExitCode
from warehouse.settings import Settings

JOB = "weather_warehouse_ingest"


def test_a_successful_run_pushes_its_figures(
    settings: Settings, wx_folder: Path, pushgateway_url: str
) -> None:
    report = ingest(
        settings.model_copy(update={"pushgateway_url": pushgateway_url}), [str(wx_folder)]
    )
    pushed = pushgateway.values(pushgateway_url, JOB)
    assert pushed['weather_warehouse_ingest_rows{outcome="inserted"}'] == 188
    assert pushed['weather_warehouse_ingest_rows{outcome="updated"}'] == 0
    assert pushed['weather_warehouse_ingest_files{outcome="loaded"}'] == 4
    assert pushed['weather_warehouse_ingest_files{outcome="rejected"}'] == 0
    assert pushed["weather_warehouse_ingest_success"] == 1
    assert pushed["weather_warehouse_ingest_duration_seconds"] > 0
    assert report.finished_at is not None
    finished = report.finished_at.timestamp()
    assert pushed["weather_warehouse_ingest_last_success_timestamp_seconds"] == finished
    assert pushed["weather_warehouse_ingest_last_run_timestamp_seconds"] == finished


def test_a_failed_run_keeps_the_last_success_timestamp(
    settings: Settings, wx_folder: Path, pushgateway_url: str
) -> None:
    pushing = settings.model_copy(update={"pushgateway_url": pushgateway_url})
    good = ingest(pushing, [str(wx_folder)])
    (wx_folder / "USC00000005.txt").write_bytes(b"20000101\tbroken\n")
    bad = ingest(pushing, [str(wx_folder)])
    assert bad.exit_code == ExitCode.FILES_REJECTED
    pushed = pushgateway.values(pushgateway_url, JOB)
    assert pushed["weather_warehouse_ingest_success"] == 0
    assert pushed['weather_warehouse_ingest_files{outcome="rejected"}'] == 1
    assert good.finished_at is not None
    assert bad.finished_at is not None
    assert pushed["weather_warehouse_ingest_last_success_timestamp_seconds"] == (
        good.finished_at.timestamp()
    )
    assert pushed["weather_warehouse_ingest_last_run_timestamp_seconds"] == (
        bad.finished_at.timestamp()
    )


def test_an_unreachable_pushgateway_does_not_fail_the_run(
    settings: Settings, wx_folder: Path
) -> None:
    report = ingest(
        settings.model_copy(update={"pushgateway_url": "http://127.0.0.1:9"}), [str(wx_folder)]
    )
    assert report.exit_code == ExitCode.OK


def test_a_run_publishes_the_same_figures_to_cloudwatch(
    settings: Settings, wx_folder: Path, moto_endpoint: str
) -> None:
    publishing = settings.model_copy(
        update={"cloudwatch_namespace": "WeatherWarehouse", "aws_endpoint_url": moto_endpoint}
    )
    ingest(publishing, [str(wx_folder)])
    cloudwatch = boto3.client("cloudwatch", endpoint_url=moto_endpoint)
    now = datetime.now(UTC)

    def latest(name: str, outcome: str | None = None) -> float:
        answer = cloudwatch.get_metric_statistics(
            Namespace="WeatherWarehouse",
            MetricName=name,
            Dimensions=[{"Name": "outcome", "Value": outcome}] if outcome else [],
            StartTime=now - timedelta(minutes=10),
            EndTime=now + timedelta(minutes=10),
            Period=60,
            Statistics=["Maximum"],
        )
        (point,) = answer["Datapoints"]
        return point["Maximum"]

    assert latest("weather_warehouse_ingest_rows", "inserted") == 188
    assert latest("weather_warehouse_ingest_files", "loaded") == 4
    assert latest("weather_warehouse_ingest_success") == 1
    assert latest("weather_warehouse_ingest_values_rejected_qc") == 0


def test_a_second_run_exits_at_once_while_the_lock_is_held(
    settings: Settings, wx_folder: Path
) -> None:
    url = settings.database_url.get_secret_value()  # type: ignore[union-attr]
    with psycopg.connect(url, autocommit=True, application_name="first-run") as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (INGEST_LOCK_KEY,))
        report = ingest(settings, [str(wx_folder)])
    assert report.exit_code == ExitCode.LOCK_HELD
    assert report.error is not None
    assert "another ingest run holds the lock" in report.error
    assert "first-run" in report.error
    assert rows(url, "SELECT count(*) FROM observation") == [(0,)]
    assert ingest(settings, [str(wx_folder)]).exit_code == ExitCode.OK
