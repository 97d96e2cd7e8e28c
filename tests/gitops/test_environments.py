"""Every environment, rendered exactly as Argo CD renders it, is valid and deployable.

The chart path, release name, namespace and value files come from the
Applications that argocd/applicationset.yaml generates (tests/gitops/argocd.py),
not from a copy of them here; the result is checked with the chart's own
validators (tests/chart/render.py): strict Kubernetes schemas, CRD schemas,
checkov.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
import yaml

from tests.chart import render as chart
from tests.chart.render import pod_specs
from tests.gitops.argocd import REPO, generate_applications, helm_source, load_objects, one

K8S_VERSIONS = ("1.30.0", "1.33.0")
# Argo CD passes the target cluster's API versions to `helm template`; the EKS
# clusters run kube-prometheus-stack and External Secrets Operator.
CLUSTER_API_VERSIONS = ("monitoring.coreos.com/v1", "external-secrets.io/v1")

Manifest = dict[str, Any]
PROJECT = one(load_objects(), "AppProject")
APPLICATIONS = {
    app["metadata"]["labels"]["weather-warehouse/environment"]: app
    for app in generate_applications(one(load_objects(), "ApplicationSet"))
}
ENVIRONMENTS = sorted(APPLICATIONS)


@cache
def rendered(env: str) -> list[Manifest]:
    """What Argo CD renders for the environment ``env``."""
    source = helm_source(APPLICATIONS[env])
    assert source.chart == chart.CHART
    return chart.render(
        source.value_files,
        release=source.release,
        namespace=source.namespace,
        api_versions=CLUSTER_API_VERSIONS,
    )


def values(env: str) -> dict[str, Any]:
    (path,) = helm_source(APPLICATIONS[env]).value_files
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def group_kind(obj: Manifest) -> tuple[str, str]:
    group, _, _version = str(obj["apiVersion"]).rpartition("/")
    return (group, obj["kind"])


@pytest.mark.parametrize("env", ENVIRONMENTS)
@pytest.mark.parametrize("k8s_version", K8S_VERSIONS)
def test_builtin_objects_match_the_kubernetes_schemas(env: str, k8s_version: str) -> None:
    assert chart.validate_builtin(rendered(env), k8s_version) == []


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_custom_resources_match_their_crd_schemas(env: str) -> None:
    objects = rendered(env)
    assert any(chart.is_custom(obj) for obj in objects)
    assert chart.validate_crds(objects) == []


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_checkov_finds_no_failed_check(env: str) -> None:
    assert chart.run_checkov(rendered(env)) == []


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_project_allows_every_kind_the_environment_renders(env: str) -> None:
    allowed = {(w["group"], w["kind"]) for w in PROJECT["spec"]["namespaceResourceWhitelist"]}
    rendered_kinds = {group_kind(obj) for obj in rendered(env)}
    assert rendered_kinds - allowed == set()


def test_the_project_allows_no_kind_that_the_chart_never_renders() -> None:
    rendered_kinds = {group_kind(obj) for env in ENVIRONMENTS for obj in rendered(env)}
    for scenario in chart.scenario_files():
        rendered_kinds |= {group_kind(obj) for obj in chart.render([scenario])}
    allowed = {(w["group"], w["kind"]) for w in PROJECT["spec"]["namespaceResourceWhitelist"]}
    assert allowed - rendered_kinds == set()
    cluster_scoped = PROJECT["spec"]["clusterResourceWhitelist"]
    assert cluster_scoped == [{"group": "", "kind": "Namespace"}]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_object_lands_in_the_application_namespace(env: str) -> None:
    namespace = APPLICATIONS[env]["spec"]["destination"]["namespace"]
    elsewhere = [
        (obj["kind"], obj["metadata"]["name"])
        for obj in rendered(env)
        if obj["metadata"].get("namespace", namespace) != namespace
    ]
    assert elsewhere == []


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_pod_runs_the_image_pinned_by_digest(env: str) -> None:
    image = values(env)["image"]
    expected = f"{image['repository']}@{image['digest']}"
    images = {
        container["image"]
        for _, spec in pod_specs(rendered(env))
        for container in spec.get("initContainers", []) + spec["containers"]
    }
    assert images == {expected}
    assert image["repository"].split("/")[0].endswith(".amazonaws.com")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_hpa_alone_owns_the_replica_count_when_autoscaling(env: str) -> None:
    objects = rendered(env)
    hpas = [obj for obj in objects if obj["kind"] == "HorizontalPodAutoscaler"]
    deployments = {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == "Deployment"}
    for hpa in hpas:
        target = deployments[hpa["spec"]["scaleTargetRef"]["name"]]
        assert "replicas" not in target["spec"]


def test_prod_autoscales_with_a_disruption_budget_and_is_monitored() -> None:
    kinds = {obj["kind"] for obj in rendered("prod")}
    assert {
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "ServiceMonitor",
        "PrometheusRule",
    } <= kinds
    hpa = next(obj for obj in rendered("prod") if obj["kind"] == "HorizontalPodAutoscaler")
    assert hpa["spec"]["minReplicas"] >= 2


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_database_credentials_come_from_secrets_manager_of_this_environment(env: str) -> None:
    (external_secret,) = [obj for obj in rendered(env) if obj["kind"] == "ExternalSecret"]
    remote_keys = {item["remoteRef"]["key"] for item in external_secret["spec"].get("data", [])}
    remote_keys |= {
        item["extract"]["key"]
        for item in external_secret["spec"].get("dataFrom", [])
        if "extract" in item
    }
    assert remote_keys == {f"weather-warehouse/{env}/db"}


def test_environments_use_their_own_aws_resources() -> None:
    # A copy-paste between environments is the classic way to point dev at prod.
    for key in (("serviceAccount", "roleArn"), ("database", "host"), ("ingress", "host")):
        seen = [values(env)[key[0]][key[1]] for env in ENVIRONMENTS]
        assert len(set(seen)) == len(seen), key
    assert all(env in values(env)["serviceAccount"]["roleArn"] for env in ENVIRONMENTS)


def test_the_chart_tests_render_these_environments_too() -> None:
    # tests/chart also lints each environment with Helm 3 and 4.
    assert chart.environment_files() == sorted(
        REPO / "k8s" / "envs" / env / "values.yaml" for env in ENVIRONMENTS
    )
