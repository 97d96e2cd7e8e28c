"""Every scenario and environment passes Helm, Kubernetes and CRD schemas, and checkov."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.chart import render as chart
from tests.chart.render import VALUES_FILES
from tests.tools import require

K8S_VERSIONS = ("1.30.0", "1.33.0")


def test_there_are_scenarios_to_check() -> None:
    assert len(chart.scenario_files()) >= 5


@pytest.mark.parametrize("helm", ["helm3", "helm4"])
def test_helm_lint_strict_passes(values_file: Path, helm: str) -> None:
    assert chart.lint([values_file], helm=helm) == []


def test_helm3_and_helm4_render_the_same_objects(values_file: Path) -> None:
    helm3 = chart.render([values_file], helm="helm3")
    helm4 = chart.render([values_file], helm="helm4")
    assert helm3 == helm4


def test_rendering_is_stable(values_file: Path) -> None:
    # Argo CD diffs renderings: no random names, no timestamps, no lookups.
    first = chart.render([values_file], cached=False)
    assert first == chart.render([values_file], cached=False)


@pytest.mark.parametrize("k8s_version", K8S_VERSIONS)
def test_builtin_objects_match_the_kubernetes_schemas(values_file: Path, k8s_version: str) -> None:
    objects = chart.render([values_file])
    assert chart.validate_builtin(objects, k8s_version) == []


def test_custom_resources_match_their_crd_schemas(values_file: Path) -> None:
    objects = chart.render([values_file])
    assert chart.validate_crds(objects) == []


def test_checkov_finds_no_failed_check(values_file: Path) -> None:
    assert chart.run_checkov(chart.render([values_file])) == []


def test_every_custom_resource_kind_is_validated_somewhere() -> None:
    kinds = {
        obj["kind"] for path in VALUES_FILES for obj in chart.render([path]) if chart.is_custom(obj)
    }
    assert {"ExternalSecret", "SecretStore", "ServiceMonitor", "PrometheusRule"} <= kinds


def test_values_schema_is_a_valid_draft_07_schema() -> None:
    result = subprocess.run(
        [
            str(require("check-jsonschema")),
            "--check-metaschema",
            str(chart.CHART / "values.schema.json"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
