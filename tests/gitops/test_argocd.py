"""The Argo CD objects: valid upstream, and the Applications they generate fit the project."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tests.chart.render import crd_errors, validate_crds
from tests.gitops.argocd import (
    REPO,
    MissingKey,
    Unsupported,
    generate_applications,
    helm_source,
    load_objects,
    one,
    render_string,
)
from tests.gitops.unknown_fields import argocd_unknown_fields
from tests.tools import node_modules

ENVIRONMENTS = sorted(path.name for path in (REPO / "k8s" / "envs").iterdir() if path.is_dir())


@pytest.fixture(scope="module")
def objects() -> list[dict[str, Any]]:
    return load_objects()


@pytest.fixture(scope="module")
def project(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return one(objects, "AppProject")


@pytest.fixture(scope="module")
def application_set(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return one(objects, "ApplicationSet")


@pytest.fixture(scope="module")
def applications(application_set: dict[str, Any]) -> list[dict[str, Any]]:
    return generate_applications(application_set)


def test_argocd_folder_holds_exactly_the_project_and_the_application_set(
    objects: list[dict[str, Any]],
) -> None:
    assert sorted(obj["kind"] for obj in objects) == ["AppProject", "ApplicationSet"]


def test_argocd_objects_and_generated_applications_pass_the_upstream_crd_schemas(
    objects: list[dict[str, Any]], applications: list[dict[str, Any]]
) -> None:
    errors = crd_errors([*objects, *applications])
    assert len(errors) == len(objects) + len(applications)
    assert all(not found for found in errors.values()), errors


def test_the_crd_validator_rejects_a_wrongly_typed_field(application_set: dict[str, Any]) -> None:
    broken = copy.deepcopy(application_set)
    broken["spec"]["template"]["spec"]["syncPolicy"]["retry"]["limit"] = "five"
    errors = crd_errors([broken])
    assert "/spec/template/spec/syncPolicy/retry/limit" in json.dumps(errors)


def test_an_object_of_a_kind_without_a_validator_is_an_error() -> None:
    rollout = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "x"}}
    assert crd_errors([rollout]) == {
        "argoproj.io/v1alpha1/Rollout/x": ["no validator for argoproj.io/v1alpha1/Rollout"]
    }
    # The chart's check, which picks custom resources by group, does not skip it either.
    assert validate_crds([rollout]) == [
        "argoproj.io/v1alpha1/Rollout x: no validator for argoproj.io/v1alpha1/Rollout"
    ]


def test_argocd_objects_and_generated_applications_have_no_misspelt_fields(
    objects: list[dict[str, Any]], applications: list[dict[str, Any]]
) -> None:
    modules = node_modules()
    for obj in [*objects, *applications]:
        assert argocd_unknown_fields(obj, modules) == [], obj["metadata"]["name"]


def test_a_misspelt_field_is_reported_with_its_path(application_set: dict[str, Any]) -> None:
    broken = copy.deepcopy(application_set)
    helm = broken["spec"]["template"]["spec"]["source"]["helm"]
    helm["valueFile"] = helm.pop("valueFiles")
    assert argocd_unknown_fields(broken, node_modules()) == [
        "/spec/template/spec/source/helm/valueFile"
    ]


def test_every_environment_folder_yields_one_application(
    applications: list[dict[str, Any]],
) -> None:
    names = sorted(app["metadata"]["name"] for app in applications)
    assert names == [f"weather-warehouse-{env}" for env in ENVIRONMENTS]
    assert {"dev", "prod"} <= set(ENVIRONMENTS)


def test_each_application_renders_the_chart_with_its_own_environment_values(
    applications: list[dict[str, Any]],
) -> None:
    for app in applications:
        env = app["metadata"]["labels"]["weather-warehouse/environment"]
        source = helm_source(app)
        assert source.chart == REPO / "helm" / "weather-warehouse"
        assert (source.chart / "Chart.yaml").is_file()
        assert source.value_files == [REPO / "k8s" / "envs" / env / "values.yaml"]
        assert all(path.is_file() for path in source.value_files)
        assert app["spec"]["source"]["helm"]["ignoreMissingValueFiles"] is False


def test_applications_come_from_a_repository_the_project_allows(
    project: dict[str, Any], applications: list[dict[str, Any]]
) -> None:
    for app in applications:
        assert app["spec"]["project"] == project["metadata"]["name"]
        assert app["spec"]["source"]["repoURL"] in project["spec"]["sourceRepos"]


def test_applications_deploy_only_to_destinations_the_project_allows(
    project: dict[str, Any], applications: list[dict[str, Any]]
) -> None:
    allowed = {(d["server"], d["namespace"]) for d in project["spec"]["destinations"]}
    used = {
        (a["spec"]["destination"]["server"], a["spec"]["destination"]["namespace"])
        for a in applications
    }
    assert used <= allowed
    # Each environment in its own namespace: two releases never share objects.
    assert len({namespace for _, namespace in used}) == len(applications)


def test_the_repository_url_is_one_value_across_project_and_application_set(
    project: dict[str, Any], application_set: dict[str, Any], applications: list[dict[str, Any]]
) -> None:
    urls = {
        *project["spec"]["sourceRepos"],
        *(g["git"]["repoURL"] for g in application_set["spec"]["generators"]),
        *(app["spec"]["source"]["repoURL"] for app in applications),
    }
    assert len(urls) == 1, urls


def test_applications_sync_automatically_with_prune_self_heal_and_retry(
    applications: list[dict[str, Any]],
) -> None:
    for app in applications:
        policy = app["spec"]["syncPolicy"]
        assert policy["automated"] == {"prune": True, "selfHeal": True}
        assert {"ServerSideApply=true", "CreateNamespace=true"} <= set(policy["syncOptions"])
        assert policy["retry"]["limit"] > 0
        assert {"duration", "factor", "maxDuration"} <= set(policy["retry"]["backoff"])
        assert "resources-finalizer.argocd.argoproj.io" in app["metadata"]["finalizers"]


def test_created_namespaces_enforce_the_restricted_pod_security_standard(
    applications: list[dict[str, Any]],
) -> None:
    for app in applications:
        labels = app["spec"]["syncPolicy"]["managedNamespaceMetadata"]["labels"]
        for mode in ("enforce", "audit", "warn"):
            assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"


def test_the_hpa_owned_replica_count_is_ignored_in_diffs_and_syncs(
    applications: list[dict[str, Any]],
) -> None:
    for app in applications:
        ignored = app["spec"]["ignoreDifferences"]
        assert {
            "group": "apps",
            "kind": "Deployment",
            "jsonPointers": ["/spec/replicas"],
        } in ignored
        assert "RespectIgnoreDifferences=true" in app["spec"]["syncPolicy"]["syncOptions"]


def test_a_template_key_missing_from_a_config_file_fails_the_generation(
    application_set: dict[str, Any], tmp_path: Path
) -> None:
    (tmp_path / "k8s" / "envs" / "qa").mkdir(parents=True)
    (tmp_path / "k8s" / "envs" / "qa" / "config.yaml").write_text(
        "namespace: weather-warehouse-qa\n"
    )
    with pytest.raises(MissingKey, match="cluster"):
        generate_applications(application_set, repo=tmp_path)


def test_template_actions_other_than_field_references_are_refused() -> None:
    assert render_string("a-{{ .path.basename }}", {"path": {"basename": "dev"}}) == "a-dev"
    with pytest.raises(Unsupported):
        render_string("{{ .path.basename | upper }}", {"path": {"basename": "dev"}})
