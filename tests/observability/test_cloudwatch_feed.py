"""The CloudWatch feed and X-Ray traces: the chart's ADOT collector configuration.

The real collector runs this configuration in test_collector_metrics.py and
test_traces.py; these tests pin what the chart renders from its values.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.observability import chart
from tests.observability.cloudwatch import (
    FILTER,
    allow_pattern,
    collector_config,
    declarations,
    required_labels,
)
from tests.tools import require


def test_no_collector_config_unless_enabled() -> None:
    maps = chart.objects(chart.render(), "ConfigMap")
    assert not [cm for cm in maps if "collector.yaml" in cm.get("data", {})]


def test_collector_config_needs_a_region() -> None:
    result = subprocess.run(
        [str(require("helm3")), "template", "ww", str(chart.CHART), "--values", str(chart.VALUES),
         "--set", "cloudwatch.collector.enabled=true"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert "cloudwatch.collector.region is required" in result.stderr


def test_metrics_pipeline_filters_the_allow_list_before_batching_into_awsemf() -> None:
    config = collector_config()
    pipeline = config["service"]["pipelines"]["metrics"]
    assert pipeline == {
        "receivers": ["prometheus"],
        "processors": ["memory_limiter", FILTER, "batch/metrics"],
        "exporters": ["awsemf"],
    }
    for kind in ("receivers", "processors", "exporters"):
        assert set(pipeline[kind]) <= set(config[kind]), kind
    assert set(config["service"]["extensions"]) <= set(config["extensions"])
    assert "traces" not in config["service"]["pipelines"]


def test_traces_pipeline_runs_otlp_into_awsxray_when_tracing_is_on() -> None:
    config = collector_config(
        "--set", "tracing.enabled=true", "--set", "adotCollector.enabled=true"
    )
    assert config["service"]["pipelines"]["traces"] == {
        "receivers": ["otlp"],
        "processors": ["memory_limiter", "batch/traces"],
        "exporters": ["awsxray"],
    }
    assert config["receivers"]["otlp"]["protocols"]["http"]["endpoint"] == "0.0.0.0:4318"
    assert config["exporters"]["awsxray"]["region"] == "eu-west-1"


def test_awsemf_exports_only_declared_dimensions_into_the_job_namespace() -> None:
    emf = collector_config("--set", "cloudwatch.namespace=WW/Test")["exporters"]["awsemf"]
    assert emf["namespace"] == "WW/Test"
    assert emf["region"] == "eu-west-1"
    assert emf["dimension_rollup_option"] == "NoDimensionRollup"
    assert emf["resource_to_telemetry_conversion"] == {"enabled": True}
    assert emf["log_group_name"] == "/weather-warehouse/weather/ww-weather-warehouse/metrics"


def test_embedded_scrape_config_passes_promtool(tmp_path: Path) -> None:
    scrape = collector_config()["receivers"]["prometheus"]["config"]
    # Debian's Prometheus is built without Kubernetes discovery, so promtool
    # checks everything else (intervals, relabelling, regexes) against a static
    # target; the discovery block is checked by the next test.
    for job in scrape["scrape_configs"]:
        if job.pop("kubernetes_sd_configs", None):
            job["static_configs"] = [{"targets": ["127.0.0.1:8000"]}]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(scrape), encoding="utf-8")
    result = subprocess.run(
        [str(require("promtool")), "check", "config", "prometheus.yml"],
        cwd=tmp_path, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def _api_job(config: dict[str, object]) -> dict[str, object]:
    jobs = config["receivers"]["prometheus"]["config"]["scrape_configs"]  # type: ignore[index]
    (job,) = [j for j in jobs if j["job_name"] == f"{chart.RELEASE}-weather-warehouse"]
    return job  # type: ignore[no-any-return]


def test_scrape_finds_the_api_pods_as_the_service_monitor_does() -> None:
    job = _api_job(collector_config())
    (sd,) = job["kubernetes_sd_configs"]  # type: ignore[misc]
    assert sd["namespaces"]["names"] == [chart.NAMESPACE]
    assert sd["selectors"][0]["label"] == (
        f"app.kubernetes.io/instance={chart.RELEASE},app.kubernetes.io/component=api"
    )
    (keep,) = [r for r in job["relabel_configs"] if r.get("action") == "keep"]  # type: ignore[attr-defined]
    monitor = chart.only(chart.render(), "ServiceMonitor")
    (endpoint,) = monitor["spec"]["endpoints"]
    assert keep["regex"] == endpoint["port"] == "http"
    assert job["metrics_path"] == endpoint["path"] == "/metrics"
    deployment = chart.only(chart.render(), "Deployment")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert pod_labels["app.kubernetes.io/instance"] == chart.RELEASE
    assert pod_labels["app.kubernetes.io/component"] == "api"
    ports = deployment["spec"]["template"]["spec"]["containers"][0]["ports"]
    assert "http" in [port["name"] for port in ports]


def test_static_targets_replace_pod_discovery() -> None:
    job = _api_job(collector_config("--set", "cloudwatch.collector.staticTargets[0]=10.0.0.5:8000"))
    assert "kubernetes_sd_configs" not in job
    assert job["static_configs"] == [
        {"targets": ["10.0.0.5:8000"], "labels": {"namespace": chart.NAMESPACE}}
    ]


def test_pushgateway_is_scraped_for_this_releases_job_with_its_labels() -> None:
    jobs = collector_config()["receivers"]["prometheus"]["config"]["scrape_configs"]
    (job,) = [j for j in jobs if j["job_name"] == "pushgateway"]
    assert job["honor_labels"] is True
    assert job["static_configs"][0]["targets"] == ["pushgateway.monitoring:9091"]
    (keep,) = job["metric_relabel_configs"]
    assert keep["source_labels"] == ["job"]
    assert keep["regex"] == "weather_warehouse_ingest"


def test_filter_allows_exactly_the_declared_metrics() -> None:
    config = collector_config()
    allow = allow_pattern(config)
    for name in ("weather_warehouse_http_requests_total", "weather_warehouse_http_requests",
                 "weather_warehouse_http_request_duration_seconds",
                 "weather_warehouse_ingest_rows"):  # fmt: skip
        assert allow.search(name), name
    for name in ("process_resident_memory_bytes", "python_gc_objects_collected_total",
                 "weather_warehouse_http_requests_total_extra", "up",
                 "weather_warehouse_ingest_values_rejected_qc"):  # fmt: skip
        assert not allow.search(name), name
    selectors = {s for d in declarations(config) for s in d["metric_name_selectors"]}
    assert set(allow.pattern.strip("()").split("|")) == selectors


def test_filter_drops_points_missing_a_declared_dimension_label() -> None:
    config = collector_config()
    required = required_labels(config)
    for declaration in declarations(config):
        (selector,) = declaration["metric_name_selectors"]
        assert required[selector] == set().union(*map(set, declaration["dimensions"]))


@pytest.mark.parametrize(
    "name", ["weather_warehouse_http_requests_total", "weather_warehouse_http_requests"]
)
def test_counter_selectors_accept_the_name_with_and_without_total(name: str) -> None:
    selectors = [s for d in declarations(collector_config()) for s in d["metric_name_selectors"]]
    assert any(re.search(s, name) for s in selectors)


def test_allow_list_comes_from_values() -> None:
    config = collector_config(
        "--set", "cloudwatch.collector.metrics[0].name=weather_warehouse_http_requests_in_flight",
        "--set", "cloudwatch.collector.metrics[0].dimensions[0][0]=namespace",
        "--set", "cloudwatch.collector.ingestMetrics=null",
    )  # fmt: skip
    (declaration,) = declarations(config)
    assert declaration["metric_name_selectors"] == ["^weather_warehouse_http_requests_in_flight$"]
    assert declaration["dimensions"] == [["namespace"]]
    assert allow_pattern(config).pattern == "(^weather_warehouse_http_requests_in_flight$)"


def test_ingest_metrics_are_not_exported_twice() -> None:
    # With cloudwatch.enabled the job sends its own figures (PutMetricData);
    # forwarding them from the Pushgateway as well would bill them twice.
    config = collector_config("--set", "cloudwatch.enabled=true")
    jobs = config["receivers"]["prometheus"]["config"]["scrape_configs"]
    assert [j["job_name"] for j in jobs] == [f"{chart.RELEASE}-weather-warehouse"]
    for declaration in declarations(config):
        for selector in declaration["metric_name_selectors"]:
            assert "ingest_" not in selector.replace("last_ingest_success", "")


def test_collector_needs_a_pipeline() -> None:
    result = subprocess.run(
        [str(require("helm3")), "template", "ww", str(chart.CHART), "--values", str(chart.VALUES),
         "--set", "adotCollector.enabled=true", "--set", "cloudwatch.collector.region=eu-west-1"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert "the collector would have no pipeline" in result.stderr
