"""The chart tells the API which hosts it serves and where it lives (PUBLIC_URL, ALLOWED_HOSTS)."""

from __future__ import annotations

from tests.chart import render as chart
from tests.chart.render import CHART, named

FULL = CHART / "ci" / "full-values.yaml"


def config(set_values: dict[str, object] | None = None) -> dict[str, str]:
    data: dict[str, str] = named(
        chart.render([FULL], set_values=set_values), "ConfigMap", "-config"
    )["data"]
    return data


def test_the_ingress_host_and_the_in_cluster_names_are_allowed() -> None:
    hosts = config()["ALLOWED_HOSTS"].split(",")
    assert "weather.example.com" in hosts  # ingress.host of the full scenario
    assert {"localhost", "127.0.0.1"} <= set(hosts)
    assert "wh-weather-warehouse.weather.svc.cluster.local" in hosts
    assert "*" not in hosts


def test_public_url_allowed_hosts_and_root_path_reach_the_api() -> None:
    data = config(
        {
            "api.publicUrl": "https://api.example.com/weather",
            "api.allowedHosts": ["*.example.org"],
            "api.rootPath": "/weather",
        }
    )
    assert data["PUBLIC_URL"] == "https://api.example.com/weather"
    assert data["ALLOWED_HOSTS"].split(",")[-1] == "*.example.org"
    assert data["ROOT_PATH"] == "/weather"


def test_an_ingress_for_any_host_needs_the_hosts_named() -> None:
    error = chart.render_error([FULL], {"ingress.host": ""})
    assert "set api.publicUrl or api.allowedHosts" in error
    assert chart.render_error([FULL], {"ingress.host": "", "api.allowedHosts": ["*"]}) == ""


def test_a_public_url_that_is_not_one_is_refused_by_the_schema() -> None:
    assert "publicUrl" in chart.render_error([FULL], {"api.publicUrl": "weather.example.com"})
