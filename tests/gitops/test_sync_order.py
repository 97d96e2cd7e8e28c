"""What a hook Job needs exists before the hook runs, in Argo CD's and in Helm's order.

A migration hook that runs before its ServiceAccount, Secret or ConfigMap exists
cannot even create its pod, and the sync (or `helm install`) hangs until its
timeout on the very first deployment, the one no upgrade test sees. Argo CD
orders a sync by phase (PreSync, Sync, PostSync) then wave
(`argocd.argoproj.io/sync-wave`, default 0), mapping Helm hooks it finds
without Argo CD annotations to phases; plain Helm (kind) runs pre-install hooks
by weight before creating any other object of the release.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.chart.render import pod_spec
from tests.gitops.test_environments import ENVIRONMENTS, rendered
from tests.gitops.test_kind_workflow import chart_objects

Manifest = dict[str, Any]
PHASES = {"PreSync": 0, "Sync": 1, "PostSync": 2}
HELM_TO_ARGO = {"pre-install": "PreSync", "pre-upgrade": "PreSync", "post-install": "PostSync"}


def annotations(obj: Manifest) -> dict[str, str]:
    found: dict[str, str] = obj["metadata"].get("annotations") or {}
    return found


def _volume_needs(volume: dict[str, Any]) -> set[tuple[str, str]]:
    sources = [volume, *volume.get("projected", {}).get("sources", [])]
    found = {
        ("Secret", s["secret"].get("secretName") or s["secret"]["name"])
        for s in sources
        if "secret" in s
    }
    return found | {("ConfigMap", s["configMap"]["name"]) for s in sources if "configMap" in s}


def _container_needs(container: dict[str, Any]) -> set[tuple[str, str]]:
    refs = [env.get("valueFrom", {}) for env in container.get("env", [])]
    found = {
        ("Secret", r["secretKeyRef"]["name"])
        for r in refs
        if "secretKeyRef" in r and not r["secretKeyRef"].get("optional")
    }
    found |= {
        ("ConfigMap", r["configMapKeyRef"]["name"])
        for r in refs
        if "configMapKeyRef" in r and not r["configMapKeyRef"].get("optional")
    }
    for env_from in container.get("envFrom", []):
        found |= {("Secret", env_from["secretRef"]["name"])} if "secretRef" in env_from else set()
        found |= (
            {("ConfigMap", env_from["configMapRef"]["name"])}
            if "configMapRef" in env_from
            else set()
        )
    return found


def needs(spec: dict[str, Any]) -> set[tuple[str, str]]:
    """(kind, name) of every ServiceAccount, Secret and ConfigMap a pod needs to start."""
    found: set[tuple[str, str]] = set()
    account = spec.get("serviceAccountName")
    if account and account != "default":
        found.add(("ServiceAccount", account))
    for volume in spec.get("volumes", []):
        found |= _volume_needs(volume)
    for container in spec.get("initContainers", []) + spec["containers"]:
        found |= _container_needs(container)
    return found


def produces(obj: Manifest) -> tuple[str, str]:
    """(kind, name) of what ``obj`` makes exist: itself, or an ExternalSecret's Secret."""
    if obj["kind"] == "ExternalSecret":
        target = obj["spec"].get("target", {}).get("name") or obj["metadata"]["name"]
        return ("Secret", target)
    return (obj["kind"], obj["metadata"]["name"])


def argo_step(obj: Manifest) -> tuple[int, int]:
    """(phase, wave) at which Argo CD applies ``obj``."""
    notes = annotations(obj)
    hook = notes.get("argocd.argoproj.io/hook")
    wave = notes.get("argocd.argoproj.io/sync-wave")
    if hook is None and "helm.sh/hook" in notes:
        hook = HELM_TO_ARGO[notes["helm.sh/hook"].split(",")[0]]
        wave = wave or notes.get("helm.sh/hook-weight")
    return PHASES[hook or "Sync"], int(wave or 0)


def helm_step(obj: Manifest) -> tuple[int, int]:
    """When plain Helm creates ``obj`` on install: pre-install hooks by weight, then the rest."""
    notes = annotations(obj)
    if "pre-install" in notes.get("helm.sh/hook", ""):
        return 0, int(notes.get("helm.sh/hook-weight", 0))
    return 1, 0


def late_needs(objects: list[Manifest], step: Any, hooks_only: bool) -> list[str]:
    """Needs of hook pods that the same rendering creates only at a later step."""
    made_at = {produces(obj): step(obj) for obj in objects}
    problems = []
    for obj in objects:
        spec = pod_spec(obj)
        is_hook = any(key.endswith("/hook") for key in annotations(obj))
        if spec is None or (hooks_only and not is_hook):
            continue
        for need in sorted(needs(spec)):
            # Not rendered here: it must exist beforehand (kind's Secret, a cursor key).
            if need in made_at and made_at[need] > step(obj):
                problems.append(f"{obj['kind']} {obj['metadata']['name']} needs {need}, made later")
    return problems


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_argo_cd_creates_what_every_pod_needs_no_later_than_the_pod(env: str) -> None:
    assert late_needs(rendered(env), argo_step, hooks_only=False) == []


def test_helm_on_kind_creates_what_the_install_hooks_need_before_them() -> None:
    assert late_needs(chart_objects(), helm_step, hooks_only=True) == []


def test_a_hook_that_runs_before_its_service_account_is_reported() -> None:
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sa"}}
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": "migrate",
            "annotations": {
                "argocd.argoproj.io/hook": "Sync",
                "argocd.argoproj.io/sync-wave": "-1",
            },
        },
        "spec": {"template": {"spec": {"serviceAccountName": "sa", "containers": [{"name": "m"}]}}},
    }
    assert late_needs([account, job], argo_step, hooks_only=False) == [
        "Job migrate needs ('ServiceAccount', 'sa'), made later"
    ]
