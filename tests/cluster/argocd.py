"""Argo CD inside the cluster, installed from its own headless manifest.

``manifests/core-install.yaml`` of the pinned module is what a user applies:
the CRDs, the application controller, the ApplicationSet controller, the
repo-server and redis, with their ServiceAccounts, RBAC and NetworkPolicies.
It is applied to namespace ``argocd`` with only the image references replaced
(:func:`with_images`); ``argocd-cm`` carries the one setting the tests change,
written before the workloads start since they read it at start.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.cluster.kube import Kube, load_yaml

NAMESPACE = "argocd"
# How often Argo CD polls git and re-compares (default 180 s). Short, so that
# the two-minute stays-Synced test sees several compares.
RECONCILIATION = "30s"
# Upstream's image names (without tag) → the name of the image built here.
UPSTREAM = {
    "quay.io/argoproj/argocd": "argocd",
    "public.ecr.aws/docker/library/redis": "redis",
}
CLUSTER_SCOPED = {"CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"}
WORKLOADS = (
    "deployment/argocd-redis",
    "deployment/argocd-repo-server",
    "deployment/argocd-applicationset-controller",
    "statefulset/argocd-application-controller",
)


def core_install(module: Path) -> list[dict[str, Any]]:
    """The objects of the module's ``manifests/core-install.yaml``."""
    return load_yaml(module / "manifests" / "core-install.yaml")


def _containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = obj.get("spec", {}).get("template", {}).get("spec", {})
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


def with_images(objects: list[dict[str, Any]], images: dict[str, str]) -> list[dict[str, Any]]:
    """``objects`` with each upstream image replaced by ``images[name]``; an image
    this harness does not know fails loudly, so a new upstream image is noticed."""
    for obj in objects:
        for container in _containers(obj):
            repository = container["image"].rsplit(":", 1)[0]
            if repository not in UPSTREAM:
                raise ValueError(f"{obj['metadata']['name']}: no local build of {repository}")
            container["image"] = images[UPSTREAM[repository]]
    return objects


def install(kube: Kube, objects: list[dict[str, Any]]) -> None:
    """Apply the install to ``argocd`` (:func:`wait_ready` waits for it)."""
    settings = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "argocd-cm", "namespace": NAMESPACE},
        "data": {"timeout.reconciliation": RECONCILIATION},
    }
    kube.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}])
    kube.apply([settings], field_manager="ww-settings")
    for obj in objects:
        if obj["kind"] not in CLUSTER_SCOPED:
            obj["metadata"]["namespace"] = NAMESPACE
    kube.apply(objects, field_manager="argocd-install")


def wait_ready(kube: Kube) -> None:
    """Wait until every workload of the install has rolled out."""
    for workload in WORKLOADS:
        kube.kubectl("rollout", "status", workload, "-n", NAMESPACE, "--timeout=300s")
