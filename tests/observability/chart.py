"""Render the Helm chart the way the observability tests need it."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.tools import require

REPO = Path(__file__).resolve().parent.parent.parent
CHART = REPO / "helm" / "weather-warehouse"
VALUES = Path(__file__).resolve().parent / "values.yaml"
RELEASE = "ww"
NAMESPACE = "weather"


def render(*args: str, operator_api: bool = True) -> list[dict[str, Any]]:
    """The chart's objects, rendered with tests/observability/values.yaml plus ``args``.

    ``operator_api`` says whether the cluster serves monitoring.coreos.com/v1.
    """
    command = [str(require("helm3")), "template", RELEASE, str(CHART)]
    command += ["--namespace", NAMESPACE, "--values", str(VALUES), *args]
    if operator_api:
        command += ["--api-versions", "monitoring.coreos.com/v1"]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def objects(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """The rendered objects of one kind."""
    return [doc for doc in docs if doc.get("kind") == kind]


def only(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    """The one rendered object of ``kind`` (fails if there is not exactly one)."""
    found = objects(docs, kind)
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]
