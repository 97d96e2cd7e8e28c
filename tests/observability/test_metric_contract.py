"""Every metric a dashboard, an alert or the CloudWatch allow-list uses is really there.

"There" means in what the running API exposes at /metrics after some
traffic, or in what a real ingest run pushed to the Pushgateway; the alerts
may also use kube-state-metrics, which the cluster provides.
"""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.harness.http import get
from tests.observability import chart, dashboards
from tests.observability.cloudwatch import allow_pattern, collector_config, declarations
from tests.observability.exposition import samples
from tests.observability.promql import metric_names
from tests.observability.system import PUSHGATEWAY_JOB, System, send_traffic
from tests.tools import require

DOCS = chart.REPO / "docs" / "observability.md"


def documented_kube_state_metrics() -> set[str]:
    """The kube-state-metrics series docs/observability.md says the alerts read."""
    return set(re.findall(r"`(kube_[a-z_]+)`", DOCS.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def api_samples(system: System) -> dict[str, set[str]]:
    send_traffic(system.api)
    return samples(system.api + "/metrics")


@pytest.fixture(scope="module")
def pushed_samples(system: System) -> dict[str, set[str]]:
    return samples(system.pushgateway + "/metrics", job=PUSHGATEWAY_JOB)


def alert_exprs() -> list[tuple[str, str]]:
    spec = chart.only(chart.render(), "PrometheusRule")["spec"]
    return [(rule["alert"], rule["expr"]) for group in spec["groups"] for rule in group["rules"]]


def test_every_dashboard_metric_is_exposed_by_the_api_or_pushed_by_the_job(
    api_samples: dict[str, set[str]], pushed_samples: dict[str, set[str]]
) -> None:
    known = set(api_samples) | set(pushed_samples)
    variables = [(where, series) for where, series, _ in dashboards.label_variables()]
    queries = dashboards.queries() + variables
    used = {(where, name) for where, expr in queries for name in metric_names(expr)}
    assert used, "no metric found in the dashboards"
    assert sorted((w, n) for w, n in used if n not in known) == []


def test_every_alert_metric_is_exposed_pushed_or_from_kube_state_metrics(
    api_samples: dict[str, set[str]], pushed_samples: dict[str, set[str]]
) -> None:
    known = set(api_samples) | set(pushed_samples) | documented_kube_state_metrics()
    used = {(alert, name) for alert, expr in alert_exprs() for name in metric_names(expr)}
    assert sorted((a, n) for a, n in used if n not in known) == []


def test_every_cloudwatch_allow_listed_metric_is_exposed_with_its_dimensions(
    system: System,
) -> None:
    exposed = samples(system.api + "/metrics", families=True)
    pushed = samples(system.pushgateway + "/metrics", job=PUSHGATEWAY_JOB, families=True)
    # The collector's relabelling (or static label) adds namespace to every series.
    added = {"namespace", "pod"}
    for declaration in declarations(collector_config()):
        (selector,) = declaration["metric_name_selectors"]
        source = pushed if selector.startswith("^weather_warehouse_ingest_") else exposed
        matching = [name for name in source if re.search(selector, name)]
        assert matching, f"{selector} matches nothing the API exposes or the job pushes"
        labels = set().union(*(source[name] for name in matching)) | added
        for dimensions in declaration["dimensions"]:
            assert set(dimensions) <= labels, (selector, dimensions)


def test_cloudwatch_filter_lets_through_exactly_the_declared_api_families(
    api_samples: dict[str, set[str]],
) -> None:
    config = collector_config()
    allow = allow_pattern(config)
    families = samples_families(api_samples)
    allowed = {
        name
        for declaration in declarations(config)
        for name in families
        if re.search(declaration["metric_name_selectors"][0], name)
    }
    assert {name for name in families if allow.search(name)} == allowed
    assert "weather_warehouse_http_requests_created" not in allowed


def samples_families(api_samples: dict[str, set[str]]) -> set[str]:
    """Family names as a collector names the metrics (histogram suffixes dropped)."""
    return {re.sub(r"_(bucket|count|sum)$", "", name) for name in api_samples}


def test_api_exposes_every_documented_api_metric(api_samples: dict[str, set[str]]) -> None:
    section = DOCS.read_text(encoding="utf-8").split("### API", 1)[1].split("### Ingest", 1)[0]
    documented = set(re.findall(r"^\| `(weather_warehouse_[a-z_]+)`", section, re.MULTILINE))
    assert len(documented) == 9
    for name in documented:
        family = {name, f"{name}_bucket", f"{name}_count"}
        assert family & set(api_samples), name


def test_job_pushes_every_documented_ingest_metric(pushed_samples: dict[str, set[str]]) -> None:
    section = DOCS.read_text(encoding="utf-8").split("### Ingest job", 1)[1].split("###", 1)[0]
    documented = set(re.findall(r"^\| `(weather_warehouse_[a-z_]+)`", section, re.MULTILINE))
    assert len(documented) == 7
    assert documented <= set(pushed_samples)


def test_api_route_label_holds_templates_not_ids(system: System) -> None:
    send_traffic(system.api)
    body = get(system.api + "/metrics").text
    routes = set(re.findall(r'weather_warehouse_http_requests_total\{[^}]*route="([^"]*)"', body))
    assert "/api/stations/{station_id}" in routes
    assert "unmatched" in routes
    assert not [route for route in routes if "USC" in route or "/no/such" in route]


def promtool_lint(exposition: bytes) -> subprocess.CompletedProcess[bytes]:
    """``promtool check metrics``: Prometheus' own naming and type conventions."""
    return subprocess.run(
        [str(require("promtool")), "check", "metrics"],
        input=exposition,
        capture_output=True,
        check=False,
        timeout=60,
    )


def test_api_metrics_follow_prometheus_naming_conventions(system: System) -> None:
    send_traffic(system.api)
    result = promtool_lint(get(system.api + "/metrics").body)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout + result.stderr == b""


def test_pushed_ingest_metrics_follow_prometheus_naming_conventions(system: System) -> None:
    exposition = get(system.pushgateway + "/metrics").body
    ours = b"\n".join(
        line for line in exposition.splitlines() if b"weather_warehouse_ingest_" in line
    )
    assert ours
    result = promtool_lint(ours + b"\n")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout + result.stderr == b""
