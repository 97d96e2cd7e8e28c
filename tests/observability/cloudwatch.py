"""The rendered ADOT collector configuration of the CloudWatch feed."""

from __future__ import annotations

import re
from typing import Any

import yaml

from tests.observability import chart

ENABLE = (
    "--set",
    "cloudwatch.collector.enabled=true",
    "--set",
    "cloudwatch.collector.region=eu-west-1",
)


def collector_config(*args: str) -> dict[str, Any]:
    """The collector.yaml the chart ships, parsed, with ``$$`` unescaped to ``$``."""
    docs = chart.render(*ENABLE, *args)
    maps = [cm for cm in chart.objects(docs, "ConfigMap") if "collector.yaml" in cm.get("data", {})]
    assert len(maps) == 1
    config: dict[str, Any] = yaml.safe_load(maps[0]["data"]["collector.yaml"].replace("$$", "$"))
    return config


def declarations(config: dict[str, Any]) -> list[dict[str, Any]]:
    """The awsemf ``metric_declarations``: the CloudWatch allow-list."""
    found: list[dict[str, Any]] = config["exporters"]["awsemf"]["metric_declarations"]
    return found


def scrape_keep_pattern(config: dict[str, Any]) -> re.Pattern[str]:
    """The scrape-time allow-list regex (anchored, as Prometheus anchors it)."""
    (job,) = config["receivers"]["prometheus"]["config"]["scrape_configs"]
    (rule,) = [r for r in job["metric_relabel_configs"] if r["action"] == "keep"]
    return re.compile(f"^(?:{rule['regex']})$")
