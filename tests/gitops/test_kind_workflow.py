"""The kind workflow, checked without Docker: scripts, and every manifest they apply.

`make kind-deploy` applies scripts/kind/namespace.yaml and postgres.yaml and
installs the chart with scripts/kind/values.yaml; here each is validated as the
cluster would see it, and the pieces are checked to fit together (the Secret the
pods read, the database Service they reach, the objects the script looks up).
"""

from __future__ import annotations

import os
import subprocess
from functools import cache
from typing import Any

import pytest
import yaml

from tests.chart import render as chart
from tests.chart.render import pod_specs
from tests.gitops.argocd import REPO, load_objects, one
from tests.tools import require

KIND = REPO / "scripts" / "kind"
SCRIPTS = sorted(KIND.glob("*.sh"))
K8S_VERSIONS = ("1.30.0", "1.33.0")
RELEASE = "weather-warehouse"  # scripts/kind/common.sh
NAMESPACE = "weather-warehouse"

Manifest = dict[str, Any]


def load_manifests(name: str) -> list[Manifest]:
    text = (KIND / name).read_text(encoding="utf-8")
    return [doc for doc in yaml.safe_load_all(text) if doc]


@cache
def chart_objects() -> list[Manifest]:
    """The chart as deploy.sh installs it (kind has no monitoring or External Secrets CRDs)."""
    return chart.render(
        [KIND / "values.yaml"],
        release=RELEASE,
        namespace=NAMESPACE,
        set_values={"image.tag": "0123456789ab"},
        api_versions=(),
    )


def kind_values() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((KIND / "values.yaml").read_text(encoding="utf-8"))
    return loaded


def the(objects: list[Manifest], kind: str, component: str | None = None) -> Manifest:
    found = [
        obj
        for obj in objects
        if obj["kind"] == kind
        and (
            component is None
            or obj["metadata"]["labels"].get("app.kubernetes.io/component") == component
        )
    ]
    assert len(found) == 1, f"expected one {kind} {component or ''}, found {len(found)}"
    return found[0]


def test_the_scripts_pass_shellcheck() -> None:
    shellcheck = require("shellcheck")
    result = subprocess.run(
        [shellcheck, "--external-sources", *SCRIPTS],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_make_targets_run_executable_scripts() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    for step in ("up", "deploy", "test", "down"):
        script = KIND / f"{step}.sh"
        assert f"kind-{step}:" in makefile
        assert f"scripts/kind/{step}.sh" in makefile
        assert os.access(script, os.X_OK), script


@pytest.mark.parametrize("k8s_version", K8S_VERSIONS)
@pytest.mark.parametrize("name", ["namespace.yaml", "postgres.yaml"])
def test_plain_manifests_match_the_kubernetes_schemas(name: str, k8s_version: str) -> None:
    assert chart.validate_builtin(load_manifests(name), k8s_version) == []


@pytest.mark.parametrize("k8s_version", K8S_VERSIONS)
def test_the_chart_with_kind_values_matches_the_kubernetes_schemas(k8s_version: str) -> None:
    assert chart.validate_builtin(chart_objects(), k8s_version) == []


def test_the_chart_with_kind_values_renders_no_custom_resource() -> None:
    # kind has no External Secrets or prometheus-operator: a custom resource would not apply.
    assert [obj["kind"] for obj in chart_objects() if chart.is_custom(obj)] == []


def test_checkov_finds_no_failed_check_in_the_chart_with_kind_values() -> None:
    # One expected failure: CKV_K8S_15 wants pullPolicy Always (or a digest). On
    # kind the image is loaded into the node and there is no registry to pull
    # from; every environment under k8s/ pins a digest and passes it.
    failures = chart.run_checkov(chart_objects())
    assert [f for f in failures if not f.startswith("CKV_K8S_15 ")] == []


def test_the_kind_namespace_is_labelled_like_the_ones_argo_cd_creates() -> None:
    (namespace,) = load_manifests("namespace.yaml")
    application_set = one(load_objects(), "ApplicationSet")
    argo_labels = application_set["spec"]["template"]["spec"]["syncPolicy"][
        "managedNamespaceMetadata"
    ]["labels"]
    assert namespace["metadata"]["name"] == NAMESPACE
    assert namespace["metadata"]["labels"] == argo_labels


def test_postgres_runs_under_the_restricted_pod_security_standard() -> None:
    ((_, spec),) = pod_specs(load_manifests("postgres.yaml"))
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    for container in spec["containers"]:
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"]["drop"] == ["ALL"]
        assert context["readOnlyRootFilesystem"] is True


def test_every_secret_key_the_pods_read_exists_in_the_kind_secret() -> None:
    secrets = {
        obj["metadata"]["name"]: set(obj.get("stringData", {})) | set(obj.get("data", {}))
        for obj in load_manifests("postgres.yaml")
        if obj["kind"] == "Secret"
    }
    read: set[tuple[str, str]] = set()
    for _, spec in pod_specs(chart_objects()):
        for volume in spec.get("volumes", []):
            if "secret" in volume:
                name = volume["secret"]["secretName"]
                read |= {(name, item["key"]) for item in volume["secret"].get("items", [])}
                read.add((name, ""))
            for source in volume.get("projected", {}).get("sources", []):
                if "secret" in source:
                    name = source["secret"]["name"]
                    read |= {(name, item["key"]) for item in source["secret"].get("items", [])}
                    read.add((name, ""))
        for container in spec["containers"] + spec.get("initContainers", []):
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    read.add((ref["name"], ref["key"]))
    assert read, "the pods read no Secret: the database password must come from one"
    missing = [
        (name, key)
        for name, key in read
        if name not in secrets or (key and key not in secrets[name])
    ]
    assert missing == []


def test_the_pods_reach_the_in_cluster_postgres_service() -> None:
    service = the(load_manifests("postgres.yaml"), "Service")
    host = kind_values()["database"]["host"]
    assert (
        host
        == f"{service['metadata']['name']}.{service['metadata']['namespace']}.svc.cluster.local"
    )
    assert service["metadata"]["namespace"] == NAMESPACE
    chart_defaults = yaml.safe_load((chart.CHART / "values.yaml").read_text(encoding="utf-8"))
    port = kind_values()["database"].get("port", chart_defaults["database"]["port"])
    assert [p["port"] for p in service["spec"]["ports"]] == [port]


def test_the_objects_deploy_sh_looks_up_exist_once() -> None:
    objects = chart_objects()
    the(objects, "Deployment", "api")
    the(objects, "CronJob", "ingest")
    service = the(objects, "Service", "api")
    assert "http" in [port["name"] for port in service["spec"]["ports"]]


def test_the_pods_run_the_image_that_deploy_sh_loads_into_kind() -> None:
    images = {
        container["image"]
        for _, spec in pod_specs(chart_objects())
        for container in spec["containers"]
    }
    assert images == {"weather-warehouse:0123456789ab"}
    policies = {
        container["imagePullPolicy"]
        for _, spec in pod_specs(chart_objects())
        for container in spec["containers"]
    }
    assert policies == {"Never"}
