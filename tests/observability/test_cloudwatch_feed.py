"""The CloudWatch feed: an ADOT collector config with an explicit, cheap allow-list."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from tests.observability import chart
from tests.observability.cloudwatch import (
    collector_config,
    declarations,
    scrape_keep_pattern,
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


def test_pipeline_runs_prometheus_receiver_into_awsemf_exporter() -> None:
    config = collector_config()
    pipeline = config["service"]["pipelines"]["metrics"]
    assert pipeline["receivers"] == ["prometheus"]
    assert pipeline["exporters"] == ["awsemf"]
    for kind in ("receivers", "processors", "exporters"):
        assert set(pipeline[kind]) <= set(config[kind]), kind
    assert set(config["service"]["extensions"]) <= set(config["extensions"])


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
        assert job.pop("kubernetes_sd_configs")
        job["static_configs"] = [{"targets": ["127.0.0.1:8000"]}]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(scrape), encoding="utf-8")
    result = subprocess.run(
        [str(require("promtool")), "check", "config", "prometheus.yml"],
        cwd=tmp_path, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_scrape_targets_only_this_releases_api_pods_in_its_namespace() -> None:
    (job,) = collector_config()["receivers"]["prometheus"]["config"]["scrape_configs"]
    (sd,) = job["kubernetes_sd_configs"]
    assert sd["namespaces"]["names"] == [chart.NAMESPACE]
    assert sd["selectors"][0]["label"] == (
        f"app.kubernetes.io/instance={chart.RELEASE},app.kubernetes.io/component=api"
    )
    deployment = chart.only(chart.render(), "Deployment")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert pod_labels["app.kubernetes.io/instance"] == chart.RELEASE
    assert pod_labels["app.kubernetes.io/component"] == "api"
    ports = deployment["spec"]["template"]["spec"]["containers"][0]["ports"]
    assert "http" in [port["name"] for port in ports]


def test_scrape_keeps_exactly_the_allow_listed_families() -> None:
    config = collector_config()
    keep = scrape_keep_pattern(config)
    assert keep.match("weather_warehouse_http_requests_total")
    assert keep.match("weather_warehouse_http_request_duration_seconds_bucket")
    assert not keep.match("process_resident_memory_bytes")
    assert not keep.match("python_gc_objects_collected_total")
    assert not keep.match("weather_warehouse_http_requests_total_extra")


@pytest.mark.parametrize(
    "name", ["weather_warehouse_http_requests_total", "weather_warehouse_http_requests"]
)
def test_counter_selectors_accept_the_name_with_and_without_total(name: str) -> None:
    import re

    selectors = [s for d in declarations(collector_config()) for s in d["metric_name_selectors"]]
    assert any(re.search(s, name) for s in selectors)


def test_allow_list_comes_from_values() -> None:
    config = collector_config(
        "--set", "cloudwatch.collector.metrics[0].name=weather_warehouse_http_requests_in_flight",
        "--set", "cloudwatch.collector.metrics[0].dimensions[0][0]=namespace",
    )  # fmt: skip
    (declaration,) = declarations(config)
    assert declaration["metric_name_selectors"] == ["^weather_warehouse_http_requests_in_flight$"]
    assert declaration["dimensions"] == [["namespace"]]


def test_ingest_metrics_are_not_exported_twice() -> None:
    # The job sends its own figures to CloudWatch (PutMetricData); scraping
    # them from the Pushgateway as well would bill them twice.
    for declaration in declarations(collector_config()):
        for selector in declaration["metric_name_selectors"]:
            assert "ingest_" not in selector.replace("last_ingest_success", "")
