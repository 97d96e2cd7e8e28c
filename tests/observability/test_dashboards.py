"""Grafana dashboards as code: generated, committed, templated, shipped by the chart."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.observability import chart, dashboards

SCRIPT = chart.REPO / "scripts" / "dashboards.py"


def test_regenerating_the_dashboards_gives_the_committed_bytes(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    generated = sorted(p.name for p in tmp_path.glob("*.json"))
    assert generated == [p.name for p in dashboards.files()]
    for path in dashboards.files():
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), (
            f"{path.name} is stale: run .venv/bin/python scripts/dashboards.py"
        )


def test_every_dashboard_round_trips_through_grafanas_typed_model() -> None:
    # A field the Grafana schema does not know, or of the wrong shape, would
    # be dropped or changed on the way through.
    from grafana_foundation_sdk.cog import plugins
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.models.dashboard import Dashboard

    plugins.register_default_plugins()
    for path in dashboards.files():
        board = dashboards.load(path)
        again = json.loads(json.dumps(Dashboard.from_json(board), cls=JSONEncoder))
        assert again == board, path.name


def test_every_dashboard_has_a_prometheus_datasource_variable() -> None:
    for path in dashboards.files():
        variables = {v["name"]: v for v in dashboards.load(path)["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource", path.name
        assert variables["datasource"]["query"] == "prometheus", path.name


def test_every_dashboard_is_templated_on_namespace() -> None:
    for path in dashboards.files():
        variables = {v["name"]: v for v in dashboards.load(path)["templating"]["list"]}
        assert variables["namespace"]["type"] == "query", path.name
        assert variables["namespace"]["query"].startswith("label_values("), path.name


def test_every_panel_and_query_uses_the_datasource_variable() -> None:
    for path in dashboards.files():
        for panel in dashboards.panels(dashboards.load(path)):
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            for target in panel["targets"]:
                assert target["datasource"]["uid"] == "${datasource}", panel["title"]


def test_api_series_are_selected_by_namespace_and_ingest_series_by_job() -> None:
    for where, expr in dashboards.queries():
        if "weather_warehouse_ingest_" in expr:
            assert 'job="$ingest_job"' in expr, where
        else:
            assert 'namespace="$namespace"' in expr, where


def test_panel_ids_are_distinct() -> None:
    for path in dashboards.files():
        board = dashboards.load(path)
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids)), path.name


def test_dashboards_cover_api_pool_ingest_and_freshness() -> None:
    exprs = " ".join(expr for _, expr in dashboards.queries())
    for metric in (
        "weather_warehouse_http_requests_total",
        "weather_warehouse_http_request_duration_seconds_bucket",
        "weather_warehouse_db_pool_connections_in_use",
        "weather_warehouse_db_pool_requests_waiting",
        "weather_warehouse_ingest_rows",
        "weather_warehouse_ingest_values_rejected_qc",
        "weather_warehouse_ingest_duration_seconds",
        "weather_warehouse_ingest_last_success_timestamp_seconds",
        "weather_warehouse_latest_observation_timestamp_seconds",
    ):
        assert metric in exprs, metric


def test_chart_ships_each_dashboard_in_a_configmap_for_the_grafana_sidecar() -> None:
    maps = chart.objects(chart.render(), "ConfigMap")
    shipped = {
        key: value
        for cm in maps
        if cm["metadata"]["labels"].get("grafana_dashboard") == "1"
        for key, value in cm["data"].items()
    }
    assert sorted(shipped) == [p.name for p in dashboards.files()]
    for path in dashboards.files():
        assert json.loads(shipped[path.name]) == dashboards.load(path)


def test_dashboards_can_go_to_the_grafana_namespace_with_a_folder() -> None:
    docs = chart.render(
        "--set",
        "dashboards.namespace=monitoring",
        "--set",
        "dashboards.annotations.grafana_folder=Weather Warehouse",
    )
    maps = [
        cm
        for cm in chart.objects(docs, "ConfigMap")
        if "grafana_dashboard" in cm["metadata"]["labels"]
    ]
    assert maps
    for cm in maps:
        assert cm["metadata"]["namespace"] == "monitoring"
        assert cm["metadata"]["annotations"]["grafana_folder"] == "Weather Warehouse"


def test_no_dashboards_when_disabled() -> None:
    docs = chart.render("--set", "dashboards.enabled=false")
    labelled = [
        cm
        for cm in chart.objects(docs, "ConfigMap")
        if "grafana_dashboard" in cm["metadata"]["labels"]
    ]
    assert labelled == []
