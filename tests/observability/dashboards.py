"""The committed Grafana dashboards and the PromQL their panels run."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.observability.chart import CHART, NAMESPACE
from tests.observability.system import PUSHGATEWAY_JOB

FOLDER = CHART / "files" / "dashboards"

# Grafana's own variables, as Grafana would fill them for a 1 s scrape interval.
GRAFANA = {
    "$__rate_interval": "4s",
    "$__interval": "1s",
    "$__range": "30s",
    "$namespace": NAMESPACE,
    "$ingest_job": PUSHGATEWAY_JOB,
}


def substitute(expr: str) -> str:
    """``expr`` with Grafana's variables filled in as Grafana would for the test system."""
    for variable, value in GRAFANA.items():
        expr = expr.replace(variable, value)
    assert "$" not in expr, f"unknown variable left in {expr}"
    return expr


def query(where: str) -> str:
    """The one query at ``where`` (``ingest.json: Last run``), variables filled in."""
    (expr,) = [e for w, e in queries() if w == where]
    return substitute(expr)


def files() -> list[Path]:
    """The dashboard JSON files the chart ships."""
    return sorted(FOLDER.glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    board: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return board


def panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel that queries data (rows excluded, collapsed rows' panels included)."""
    found: list[dict[str, Any]] = []
    for panel in board["panels"]:
        if panel["type"] == "row":
            found.extend(panel.get("panels", []))
        else:
            found.append(panel)
    return found


def queries() -> list[tuple[str, str]]:
    """``(where, expr)`` for every panel target and annotation query of every dashboard."""
    targets = [
        (f"{path.name}: {panel['title']}", target["expr"])
        for path in files()
        for panel in panels(load(path))
        for target in panel["targets"]
    ]
    annotations = [
        (f"{path.name}: annotation {annotation['name']}", annotation["expr"])
        for path in files()
        for annotation in load(path)["annotations"]["list"]
        if "expr" in annotation
    ]
    return targets + annotations


def label_variables() -> list[tuple[str, str, str]]:
    """``(where, series selector, label)`` of every ``label_values(...)`` variable."""
    found = []
    for path in files():
        for variable in load(path)["templating"]["list"]:
            if variable["type"] != "query":
                continue
            match = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", variable["query"])
            assert match, f"{path.name}: ${variable['name']} is not label_values(series, label)"
            found.append((f"{path.name}: ${variable['name']}", match[1], match[2]))
    return found
