"""A real Prometheus scrapes the running API and the Pushgateway; every dashboard query,
variable and alert rule runs against it."""

from __future__ import annotations

from typing import Any

from tests.harness import prometheus
from tests.harness.waiting import wait_for
from tests.observability import chart, dashboards
from tests.observability.dashboards import substitute
from tests.observability.system import PUSHGATEWAY_JOB, System, send_traffic

# Queries that are legitimately empty on a healthy system: no 5xx; no ingest
# run finished within the last two minutes of the window.
MAY_BE_EMPTY = {"api.json: Server error ratio (5xx)", "ingest.json: annotation Ingest runs"}


def result(where: str, url: str, expr: str, *, must_have_data: bool) -> list[Any]:
    """Run ``expr`` as a range query; wait for data where it must come."""

    def ask() -> list[Any] | None:
        body = prometheus.query_range(url, expr)
        assert body["status"] == "success", (where, expr, body)
        found: list[Any] = body["data"]["result"]
        return found if found or not must_have_data else None

    return wait_for(ask, f"data for {where}", timeout=20) if must_have_data else ask() or []


def test_every_dashboard_query_runs_and_has_data(system: System, prometheus_url: str) -> None:
    send_traffic(system.api)
    for where, expr in dashboards.queries():
        result(where, prometheus_url, substitute(expr), must_have_data=where not in MAY_BE_EMPTY)


def test_queries_that_may_be_empty_still_run(prometheus_url: str) -> None:
    found = [(w, e) for w, e in dashboards.queries() if w in MAY_BE_EMPTY]
    assert len(found) == len(MAY_BE_EMPTY)
    for _, expr in found:
        assert prometheus.query_range(prometheus_url, substitute(expr))["status"] == "success"


def test_every_dashboard_variable_lists_the_running_system(prometheus_url: str) -> None:
    expected = {"namespace": chart.NAMESPACE, "job": PUSHGATEWAY_JOB}
    for where, series, label in dashboards.label_variables():
        body = prometheus.api(prometheus_url, f"label/{label}/values", [("match[]", series)])
        assert body["status"] == "success", where
        assert expected[label] in body["data"], (where, body["data"])


def test_latency_by_route_shows_route_templates(system: System, prometheus_url: str) -> None:
    send_traffic(system.api)
    (expr,) = [e for w, e in dashboards.queries() if w == "api.json: p99 latency by route"]
    series = result("p99 by route", prometheus_url, substitute(expr), must_have_data=True)
    routes = {s["metric"]["route"] for s in series}
    assert "/api/stations/{station_id}" in routes


def test_freshness_panels_report_the_loaded_data(prometheus_url: str) -> None:
    (expr,) = [e for w, e in dashboards.queries() if w == "ingest.json: Newest observation date"]
    ((series,),) = [result("newest date", prometheus_url, substitute(expr), must_have_data=True)]
    newest_ms = float(series["values"][-1][1])
    # The two stations' files end on 2014-12-31 (midnight UTC, in milliseconds).
    assert newest_ms == 1419984000 * 1000


def test_every_alert_rule_evaluates_without_error(prometheus_url: str) -> None:
    def evaluated() -> list[dict[str, Any]] | None:
        body = prometheus.api(prometheus_url, "rules", {})
        rules = [rule for group in body["data"]["groups"] for rule in group["rules"]]
        return (
            rules
            if rules and all(r.get("lastEvaluation", "0001").startswith("20") for r in rules)
            else None
        )

    rules = wait_for(evaluated, "every rule to be evaluated")
    assert {rule["name"] for rule in rules} >= {
        "WeatherWarehouseApiHighErrorRatio",
        "WeatherWarehouseIngestFailed",
        "WeatherWarehouseDataStale",
    }
    assert [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"] == []


def test_ingest_failure_alert_stays_quiet_after_a_successful_run(prometheus_url: str) -> None:
    body = prometheus.query(prometheus_url, 'ALERTS{alertname="WeatherWarehouseIngestFailed"}')
    assert body["status"] == "success"
    assert body["data"]["result"] == []


def test_stale_data_rule_selects_the_scraped_api_series_and_finds_old_data(
    prometheus_url: str,
) -> None:
    spec = chart.only(chart.render(), "PrometheusRule")["spec"]
    (rule,) = [
        r for g in spec["groups"] for r in g["rules"] if r["alert"] == "WeatherWarehouseDataStale"
    ]
    (sample,) = prometheus.query(prometheus_url, rule["expr"])["data"]["result"]
    # Selected by namespace and job="<Service name>", as a ServiceMonitor scrape labels
    # it; the real data set ends in 2014, far past the 12 hours the test values allow.
    assert sample["metric"] == {"namespace": chart.NAMESPACE}
    assert float(sample["value"][1]) > 12 * 3600
