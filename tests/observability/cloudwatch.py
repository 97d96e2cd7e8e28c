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
    """The collector.yaml the chart ships, parsed, with ``$$`` unescaped to ``$``.

    Rendered with tests/observability/values.yaml: the job pushes to a
    Pushgateway and does not call PutMetricData, so the ingest metrics are in.
    """
    docs = chart.render(*ENABLE, *args)
    maps = [cm for cm in chart.objects(docs, "ConfigMap") if "collector.yaml" in cm.get("data", {})]
    assert len(maps) == 1
    config: dict[str, Any] = yaml.safe_load(maps[0]["data"]["collector.yaml"].replace("$$", "$"))
    return config


def declarations(config: dict[str, Any]) -> list[dict[str, Any]]:
    """The awsemf ``metric_declarations``: the CloudWatch allow-list."""
    found: list[dict[str, Any]] = config["exporters"]["awsemf"]["metric_declarations"]
    return found


FILTER = "filter/cloudwatch_allow_list"


def allow_pattern(config: dict[str, Any]) -> re.Pattern[str]:
    """The filter processor's allow-list regex: a metric it does not match is dropped."""
    (condition,) = config["processors"][FILTER]["metrics"]["metric"]
    match = re.fullmatch(r'not IsMatch\(name, "(.*)"\)', condition)
    assert match, condition
    return re.compile(match[1])


def required_labels(config: dict[str, Any]) -> dict[str, set[str]]:
    """Name pattern -> the labels without which the filter drops a data point."""
    found: dict[str, set[str]] = {}
    for condition in config["processors"][FILTER]["metrics"]["datapoint"]:
        match = re.fullmatch(r'IsMatch\(metric.name, "(.*)"\) and attributes\["(.*)"\] == nil',
                             condition)  # fmt: skip
        assert match, condition
        found.setdefault(match[1], set()).add(match[2])
    return found
