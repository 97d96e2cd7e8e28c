"""The chart as the observability tests render it: their values file, release ``ww``."""

from __future__ import annotations

from pathlib import Path

from tests.chart.render import CHART, DEFAULT_API_VERSIONS, REPO, Manifest, objects, only
from tests.chart.render import render as render_chart

VALUES = Path(__file__).resolve().parent / "values.yaml"
RELEASE = "ww"
NAMESPACE = "weather"

__all__ = ["CHART", "NAMESPACE", "RELEASE", "REPO", "VALUES", "objects", "only", "render"]


def render(*args: str, operator_api: bool = True) -> list[Manifest]:
    """The chart's objects, rendered with tests/observability/values.yaml plus Helm ``args``.

    ``operator_api`` says whether the cluster serves monitoring.coreos.com/v1.
    """
    return render_chart(
        [VALUES], release=RELEASE, namespace=NAMESPACE, extra_args=args,
        api_versions=DEFAULT_API_VERSIONS if operator_api else (),
    )  # fmt: skip
