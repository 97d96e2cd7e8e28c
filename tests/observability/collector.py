"""The chart's ADOT collector configuration, rendered for a real collector here.

Rendering uses only chart values: the API is scraped at a static target
(``cloudwatch.collector.staticTargets``, the value for a collector that cannot
discover pods), the Pushgateway at its real URL, intervals of one second, and
free ports. ``tests.harness.otelcol.without_aws_exporters`` then swaps the two
AWS exporters for file exporters; nothing else changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.harness import otelcol
from tests.observability import chart
from warehouse.ports import free_port


@dataclass(frozen=True)
class Collector:
    """A running collector: its folder (config, log, output files) and ports."""

    folder: Path
    config_file: Path
    otlp_endpoint: str

    @property
    def metrics_file(self) -> Path:
        return self.folder / "metrics.jsonl"

    @property
    def traces_file(self) -> Path:
        return self.folder / "traces.jsonl"


def rendered_config(*args: str) -> dict[str, Any]:
    """collector.yaml of the chart rendered with the test values plus ``args``, parsed."""
    docs = chart.render(*args)
    maps = [cm for cm in chart.objects(docs, "ConfigMap") if "collector.yaml" in cm.get("data", {})]
    assert len(maps) == 1
    config: dict[str, Any] = yaml.safe_load(maps[0]["data"]["collector.yaml"])
    return config


def local_values(
    *, api: str | None, pushgateway: str | None, otlp_port: int, health_port: int
) -> list[str]:
    """``--set`` arguments for a collector on this machine (what differs from a cluster)."""
    sets = {
        "cloudwatch.collector.region": "eu-west-1",
        "cloudwatch.collector.scrapeInterval": "1s",
        "cloudwatch.collector.scrapeTimeout": "1s",
        "cloudwatch.collector.batchTimeout": "200ms",
        "adotCollector.enabled": "true",
        "adotCollector.otlpPort": str(otlp_port),
        "adotCollector.healthPort": str(health_port),
        "adotCollector.telemetryPort": str(free_port()),
        "tracing.enabled": "true",
    }
    if api is not None:
        sets["cloudwatch.collector.enabled"] = "true"
        sets["cloudwatch.collector.staticTargets[0]"] = api.removeprefix("http://")
    if pushgateway is not None:
        sets["ingest.pushgatewayUrl"] = pushgateway
    else:
        sets["ingest.pushgatewayUrl"] = ""
    return [arg for key, value in sets.items() for arg in ("--set", f"{key}={value}")]


def run(folder: Path, *, api: str | None, pushgateway: str | None) -> Iterator[Collector]:
    """Render, transform and run the collector (a generator for a pytest fixture)."""
    binary = otelcol.binary()
    otlp_port, health_port = free_port(), free_port()
    args = local_values(
        api=api, pushgateway=pushgateway, otlp_port=otlp_port, health_port=health_port
    )
    config = otelcol.without_aws_exporters(rendered_config(*args), folder)
    with otelcol.running_collector(binary, config, folder, health_port) as config_file:
        yield Collector(folder, config_file, f"http://127.0.0.1:{otlp_port}")


@dataclass(frozen=True)
class Point:
    """One exported data point: metric name, its labels, value (count for histograms)."""

    name: str
    labels: dict[str, str]
    value: float
    histogram_sum: float | None = None


def _attributes(items: list[dict[str, Any]]) -> dict[str, str]:
    return {item["key"]: str(next(iter(item["value"].values()))) for item in items}


def metric_points(lines: list[dict[str, Any]]) -> list[Point]:
    """Every data point in the file exporter's OTLP JSON lines, in export order."""
    points: list[Point] = []
    for line in lines:
        for resource in line.get("resourceMetrics", []):
            for scope in resource.get("scopeMetrics", []):
                for metric in scope.get("metrics", []):
                    for kind in ("gauge", "sum", "histogram"):
                        for dp in metric.get(kind, {}).get("dataPoints", []):
                            labels = _attributes(dp.get("attributes", []))
                            if kind == "histogram":
                                points.append(
                                    Point(metric["name"], labels, float(dp["count"]), dp.get("sum"))
                                )
                            else:
                                value = dp.get("asDouble", dp.get("asInt", 0))
                                points.append(Point(metric["name"], labels, float(value)))
    return points


def latest(points: list[Point]) -> dict[tuple[str, frozenset[tuple[str, str]]], Point]:
    """The last exported point of each series (name and labels)."""
    return {(p.name, frozenset(p.labels.items())): p for p in points}


@dataclass(frozen=True)
class Span:
    """One exported span, flattened from OTLP JSON."""

    service: str
    trace_id: str
    span_id: str
    parent_id: str
    name: str
    kind: int
    attributes: dict[str, str]
    status_code: int


def spans(lines: list[dict[str, Any]]) -> list[Span]:
    """Every span in the file exporter's OTLP JSON lines."""
    found: list[Span] = []
    for line in lines:
        for resource in line.get("resourceSpans", []):
            service = _attributes(resource["resource"]["attributes"]).get("service.name", "")
            for scope in resource.get("scopeSpans", []):
                for span in scope.get("spans", []):
                    found.append(
                        Span(
                            service=service,
                            trace_id=span["traceId"],
                            span_id=span["spanId"],
                            parent_id=span.get("parentSpanId", ""),
                            name=span["name"],
                            kind=int(span.get("kind", 0)),
                            attributes=_attributes(span.get("attributes", [])),
                            status_code=int(span.get("status", {}).get("code", 0)),
                        )
                    )
    return found
