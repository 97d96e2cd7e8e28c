"""The real collector runs the chart's metrics pipeline against the running API and a
real Pushgateway, and lets through exactly the CloudWatch allow-list.

Only the awsemf exporter is replaced (by a file exporter, see tests/harness/otelcol.py):
what lands in the file is what awsemf would turn into CloudWatch metrics.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from functools import partial

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.harness import otelcol
from tests.harness.http import get
from tests.harness.waiting import wait_for
from tests.observability import chart
from tests.observability.collector import Collector, Point, latest, metric_points, run
from tests.observability.system import PUSHGATEWAY_JOB, System

API_ALLOW_LIST = {
    "weather_warehouse_http_requests_total",
    "weather_warehouse_http_request_duration_seconds",
    "weather_warehouse_http_requests_in_flight",
    "weather_warehouse_db_pool_size",
    "weather_warehouse_db_pool_connections_in_use",
    "weather_warehouse_db_pool_requests_waiting",
    "weather_warehouse_last_ingest_success_timestamp_seconds",
    "weather_warehouse_latest_observation_timestamp_seconds",
}
INGEST_ALLOW_LIST = {
    "weather_warehouse_ingest_success",
    "weather_warehouse_ingest_duration_seconds",
    "weather_warehouse_ingest_rows",
    "weather_warehouse_ingest_files",
    "weather_warehouse_ingest_last_success_timestamp_seconds",
}


def _push(pushgateway: str, job: str, grouping: str, body: str) -> None:
    request = urllib.request.Request(
        f"{pushgateway}/metrics/job/{job}{grouping}", data=body.encode(), method="PUT"
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


@pytest.fixture(scope="module")
def collector(system: System, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Collector]:
    # Beside the real run's figures: an allow-listed name without the label its
    # dimensions need, and the same metric under another release's job.
    # (The Pushgateway refuses a family whose HELP differs from the pushed one's.)
    rows = "# HELP weather_warehouse_ingest_rows Rows by outcome in the last run.\n"
    rows += "# TYPE weather_warehouse_ingest_rows gauge\n"
    _push(system.pushgateway, PUSHGATEWAY_JOB, "/source/manual",
          rows + "weather_warehouse_ingest_rows 7\n")  # fmt: skip
    _push(system.pushgateway, "someone_else", "",
          rows + 'weather_warehouse_ingest_rows{outcome="inserted"} 99\n')  # fmt: skip
    folder = tmp_path_factory.mktemp("collector")
    yield from run(folder, api=system.api, pushgateway=system.pushgateway)


def _both_jobs_exported(collector: Collector) -> list[Point] | None:
    points = metric_points(otelcol.read_lines(collector.metrics_file))
    names = {p.name for p in points}
    if {"weather_warehouse_ingest_success", "weather_warehouse_db_pool_size"} <= names:
        return points
    return None


@pytest.fixture(scope="module")
def exported(collector: Collector) -> dict[tuple[str, frozenset[tuple[str, str]]], Point]:
    """The latest exported point per series, once both scrapes have gone through."""
    points = wait_for(
        partial(_both_jobs_exported, collector), "the collector to export both scrapes"
    )
    return latest(points)


def _names(exported: dict[tuple[str, frozenset[tuple[str, str]]], Point]) -> set[str]:
    return {name for name, _ in exported}


def _normalised(name: str) -> str:
    # The receiver may drop a counter's _total; the allow-list accepts both.
    return name if not name.endswith("_requests") else name + "_total"


def test_the_collector_binary_accepts_the_rendered_configuration(collector: Collector) -> None:
    result = otelcol.validate(otelcol.binary(), collector.config_file)
    assert result.returncode == 0, result.stdout + result.stderr


def test_pipeline_is_the_charts_with_only_the_aws_exporter_replaced(collector: Collector) -> None:
    import yaml

    ran = yaml.safe_load(collector.config_file.read_text())
    metrics = ran["service"]["pipelines"]["metrics"]
    assert metrics == {
        "receivers": ["prometheus"],
        "processors": ["memory_limiter", "filter/cloudwatch_allow_list", "batch/metrics"],
        "exporters": ["file/metrics"],
    }
    assert "awsemf" not in ran["exporters"]


def test_exactly_the_allow_listed_metrics_come_out(
    exported: dict[tuple[str, frozenset[tuple[str, str]]], Point],
) -> None:
    assert {_normalised(n) for n in _names(exported)} == API_ALLOW_LIST | INGEST_ALLOW_LIST


def test_metrics_outside_the_allow_list_are_dropped(
    exported: dict[tuple[str, frozenset[tuple[str, str]]], Point],
) -> None:
    names = _names(exported)
    # Scraped (the API and the Pushgateway expose them) but not allow-listed.
    for dropped in ("process_resident_memory_bytes", "python_gc_objects_collected",
                    "weather_warehouse_ingest_values_rejected_qc", "push_time_seconds",
                    "up", "scrape_duration_seconds"):  # fmt: skip
        assert not [n for n in names if n.startswith(dropped)], dropped


def test_a_data_point_without_a_dimension_label_is_dropped(
    exported: dict[tuple[str, frozenset[tuple[str, str]]], Point],
) -> None:
    rows = [p for (name, _), p in exported.items() if name == "weather_warehouse_ingest_rows"]
    assert rows
    assert all("outcome" in p.labels for p in rows)
    assert 7.0 not in [p.value for p in rows]


def test_only_this_releases_pushgateway_job_is_forwarded(
    exported: dict[tuple[str, frozenset[tuple[str, str]]], Point],
) -> None:
    assert 99.0 not in [p.value for p in exported.values()]


def test_every_point_carries_its_dimension_labels_with_the_release_namespace(
    exported: dict[tuple[str, frozenset[tuple[str, str]]], Point],
) -> None:
    needed = {"weather_warehouse_http_requests_total": {"route", "status"},
              "weather_warehouse_http_request_duration_seconds": {"route"},
              "weather_warehouse_db_pool_size": {"pool"},
              "weather_warehouse_db_pool_connections_in_use": {"pool"},
              "weather_warehouse_db_pool_requests_waiting": {"pool"},
              "weather_warehouse_ingest_rows": {"outcome"},
              "weather_warehouse_ingest_files": {"outcome"}}  # fmt: skip
    for (name, _), point in exported.items():
        assert point.labels["namespace"] == chart.NAMESPACE, name
        assert needed.get(_normalised(name), set()) <= point.labels.keys(), name


def test_pushed_ingest_figures_come_out_with_their_values(
    system: System, exported: dict[tuple[str, frozenset[tuple[str, str]]], Point]
) -> None:
    from tests.harness import pushgateway

    pushed = pushgateway.values(system.pushgateway, PUSHGATEWAY_JOB)
    for (name, labels), point in exported.items():
        if not name.startswith("weather_warehouse_ingest_"):
            continue
        label_text = ",".join(f'{k}="{v}"' for k, v in sorted(labels) if k == "outcome")
        key = name + ("{" + label_text + "}" if label_text else "")
        assert point.value == pushed[key], key
    success = "weather_warehouse_ingest_success"
    assert exported[(success, _labels(exported, success))].value == 1.0


def _labels(
    exported: dict[tuple[str, frozenset[tuple[str, str]]], Point], name: str
) -> frozenset[tuple[str, str]]:
    (labels,) = [labels for n, labels in exported if n == name]
    return labels


def _exposed(api: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(get(api + "/metrics").text)
        for sample in family.samples
    }


def test_api_figures_come_out_with_the_values_the_api_exposes(
    system: System, exported: dict[tuple[str, frozenset[tuple[str, str]]], Point]
) -> None:
    exposed = _exposed(system.api)
    for name in ("weather_warehouse_latest_observation_timestamp_seconds",
                 "weather_warehouse_last_ingest_success_timestamp_seconds"):  # fmt: skip
        assert exported[(name, _labels(exported, name))].value == exposed[(name, frozenset())]
    for (name, _), point in exported.items():
        if name == "weather_warehouse_db_pool_size":
            key = frozenset({("pool", point.labels["pool"])})
            assert point.value == exposed[(name, key)]


def test_request_counts_come_out_per_route_and_status(
    exported: dict[tuple[str, frozenset[tuple[str, str]]], Point],
) -> None:
    # The fixture's traffic asked once for a station that does not exist.
    requests = [p for (n, _), p in exported.items()
                if n.startswith("weather_warehouse_http_requests")
                and p.labels.get("route") == "/api/stations/{station_id}"
                and p.labels.get("status") == "404"]  # fmt: skip
    assert [p.value for p in requests] == [1.0]


def test_latency_histograms_come_out_as_histograms_per_route(
    exported: dict[tuple[str, frozenset[tuple[str, str]]], Point],
) -> None:
    durations = [p for (n, _), p in exported.items()
                 if n == "weather_warehouse_http_request_duration_seconds"
                 and p.labels.get("route") == "/api/stations/{station_id}"]  # fmt: skip
    assert durations
    assert sum(p.value for p in durations) == 2.0  # one 200, one 404
    assert all(p.histogram_sum is not None and p.histogram_sum > 0 for p in durations)
