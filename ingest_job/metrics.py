"""Run metrics: pushed to the Prometheus Pushgateway and/or CloudWatch.

The Pushgateway is the standard path for batch jobs: the run pushes its
figures under ``job=$PUSHGATEWAY_JOB`` with ``pushadd`` (POST), which
replaces only the metrics it sends, so a failed run, which does not send
``..._last_success_timestamp_seconds``, leaves the last success in place for
the "no recent success" alert. CloudWatch gets the same figures with
PutMetricData. A metrics backend that is down is logged, never fatal: the
data is loaded either way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ingest_job.report import RunReport
from warehouse.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.literals import StandardUnitType
    from mypy_boto3_cloudwatch.type_defs import DimensionTypeDef, MetricDatumTypeDef

log = logging.getLogger("ingest_job")

PREFIX = "weather_warehouse_ingest"


@dataclass(frozen=True)
class Figure:
    """One sample: name, help, optional ``outcome`` label, value, CloudWatch unit."""

    name: str
    help: str
    value: float
    outcome: str | None = None
    unit: StandardUnitType = "Count"


def figures(report: RunReport) -> list[Figure]:
    """Every figure a run publishes (the last-success one only when it succeeded)."""
    finished = (report.finished_at or report.started_at).timestamp()
    rows = "Rows by outcome in the last run."
    files = "Files by outcome in the last run."
    found = [
        Figure(f"{PREFIX}_duration_seconds", "Duration of the last run.", report.duration_s,
               unit="Seconds"),
        Figure(f"{PREFIX}_rows", rows, report.rows_inserted, "inserted"),
        Figure(f"{PREFIX}_rows", rows, report.rows_updated, "updated"),
        Figure(f"{PREFIX}_rows", rows, report.rows_rejected, "rejected"),
        Figure(f"{PREFIX}_values_rejected_qc",
               "Values not loaded because NOAA flagged them in quality control.",
               report.values_rejected_qc),
        Figure(f"{PREFIX}_files", files, report.files_loaded, "loaded"),
        Figure(f"{PREFIX}_files", files, report.files_skipped, "skipped"),
        Figure(f"{PREFIX}_files", files, report.files_rejected, "rejected"),
        Figure(f"{PREFIX}_files", files, report.files_failed, "failed"),
        Figure(f"{PREFIX}_files", files, report.files_still_rejected, "still_rejected"),
        Figure(f"{PREFIX}_success", "1 if the last run succeeded, else 0.",
               1.0 if report.succeeded else 0.0, unit="None"),
        Figure(f"{PREFIX}_last_run_timestamp_seconds", "When the last run finished (Unix time).",
               finished, unit="Seconds"),
    ]  # fmt: skip
    if report.succeeded:
        found.append(
            Figure(f"{PREFIX}_last_success_timestamp_seconds",
                   "When the last successful run finished (Unix time).", finished, unit="Seconds")
        )  # fmt: skip
    return found


def publish(settings: Settings, report: RunReport) -> None:
    """Send the run's figures wherever the settings say; log, never raise, on failure."""
    if settings.pushgateway_url:
        try:
            push_to_pushgateway(settings.pushgateway_url, settings.pushgateway_job, report)
        except Exception as exc:  # any failure of a side channel must not fail the run
            log.error("pushing run metrics to the Pushgateway failed", extra={"reason": str(exc)})
    if settings.cloudwatch_namespace:
        try:
            put_to_cloudwatch(settings, settings.cloudwatch_namespace, report)
        except Exception as exc:
            log.error("publishing run metrics to CloudWatch failed", extra={"reason": str(exc)})


def push_to_pushgateway(url: str, job: str, report: RunReport) -> None:
    """``pushadd`` the figures under ``job`` (no ``instance`` label).

    A shard pushes under its own group (``shard="I"``), so that shards do not
    overwrite each other's figures; rules aggregate over ``shard``.
    """
    from prometheus_client import CollectorRegistry, Gauge, pushadd_to_gateway

    registry = CollectorRegistry()
    gauges: dict[str, Gauge] = {}
    for figure in figures(report):
        labels = ["outcome"] if figure.outcome is not None else []
        gauge = gauges.get(figure.name)
        if gauge is None:
            gauge = Gauge(figure.name, figure.help, labels, registry=registry)
            gauges[figure.name] = gauge
        (gauge.labels(figure.outcome) if figure.outcome is not None else gauge).set(figure.value)
    grouping = {"shard": report.shard.partition("/")[0]} if report.shard else None
    pushadd_to_gateway(url, job=job, registry=registry, timeout=10, grouping_key=grouping)


def put_to_cloudwatch(settings: Settings, namespace: str, report: RunReport) -> None:
    """PutMetricData with the same names; ``outcome`` becomes a dimension."""
    import boto3

    client: CloudWatchClient = boto3.client("cloudwatch", endpoint_url=settings.aws_endpoint_url)
    when = report.finished_at or report.started_at
    data: list[MetricDatumTypeDef] = [
        {
            "MetricName": figure.name,
            "Dimensions": _dimensions(figure, report),
            "Timestamp": when,
            "Value": float(figure.value),
            "Unit": figure.unit,
        }
        for figure in figures(report)
    ]
    client.put_metric_data(Namespace=namespace, MetricData=data)


def _dimensions(figure: Figure, report: RunReport) -> list[DimensionTypeDef]:
    found: list[DimensionTypeDef] = []
    if figure.outcome is not None:
        found.append({"Name": "outcome", "Value": figure.outcome})
    if report.shard:
        found.append({"Name": "shard", "Value": report.shard.partition("/")[0]})
    return found
