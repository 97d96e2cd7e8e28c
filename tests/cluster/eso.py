"""The External Secrets Operator inside the cluster, from its own Helm chart,
and the ClusterSecretStore for AWS Secrets Manager (moto) that the platform
would create on EKS.

The chart comes from the pinned module (``deploy/charts/external-secrets``)
and installs as a user installs it: the controller, the webhook and the
cert-controller, the CRDs as the chart ships them. Only the images and the AWS
endpoint are set through values.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.cluster.kube import Kube
from tests.cluster.processes import wait_for
from tests.tools import require

NAMESPACE = "external-secrets"
RELEASE = "external-secrets"
STORE = "aws-secrets-manager"  # k8s/envs/dev/values.yaml's storeRef


def chart(module: Path, scratch: Path) -> Path:
    """The module's chart as its release packages it (:func:`_package_crds`), less
    its Bitwarden dependency: that chart is off by default and not in the module,
    and Helm refuses a chart whose dependency is missing from ``charts/``."""
    target = scratch / "external-secrets"
    shutil.copytree(module / "deploy" / "charts" / "external-secrets", target)
    target.chmod(0o755)
    for folder in target.rglob("*"):  # the module cache is read-only
        folder.chmod(0o755 if folder.is_dir() else 0o644)
    meta = yaml.safe_load((target / "Chart.yaml").read_text())
    meta.pop("dependencies", None)
    (target / "Chart.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
    (target / "Chart.lock").unlink(missing_ok=True)
    _package_crds(module / "deploy" / "crds" / "bundle.yaml", target / "templates" / "crds")
    return target


def _package_crds(bundle: Path, folder: Path) -> None:
    """What the release's ``hack/helm.generate.sh`` does: one template per CRD of the
    bundle, each behind the chart's ``installCRDs`` (and ``crds.create<Kind>``) flag.
    The CRDs' text is kept byte for byte."""
    for text in bundle.read_text().split("\n---\n"):
        crd = yaml.safe_load(text)
        if not crd:
            continue
        kind = crd["spec"]["names"]["kind"]
        flag = f"create{kind}"
        condition = (
            f"and (.Values.installCRDs) (.Values.crds.{flag})"
            if "Cluster" in kind or "PushSecret" in kind
            else ".Values.installCRDs"
        )
        body = text.removeprefix("---\n").rstrip("\n")
        name = crd["spec"]["names"]["singular"]
        (folder / f"{name}.yaml").write_text(f"{{{{- if {condition} }}}}\n{body}\n{{{{- end }}}}\n")


def values(image: str | None, aws_endpoint: str) -> dict[str, Any]:
    """The chart's values: webhook and cert-controller on (the defaults), the
    image (``repository:tag``; None keeps upstream's) and the AWS endpoint."""
    found: dict[str, Any] = {
        "installCRDs": True,
        "webhook": {"create": True},
        "certController": {"create": True},
        # v0.16 uses aws-sdk-go v1, which reads these rather than AWS_ENDPOINT_URL_*.
        "extraEnv": [
            {"name": "AWS_SECRETSMANAGER_ENDPOINT", "value": aws_endpoint},
            {"name": "AWS_STS_ENDPOINT", "value": aws_endpoint},
        ],
    }
    if image is not None:
        repository, tag = image.rsplit(":", 1)
        ref = {"repository": repository, "tag": tag}
        found["image"] = ref
        found["webhook"]["image"] = ref
        found["certController"]["image"] = ref
    return found


def install(kube: Kube, source: list[str], settings: dict[str, Any]) -> None:
    """``helm upgrade --install`` of the chart at ``source`` (a folder, or a name
    with ``--repo``/``--version``), waiting until its three Deployments are ready."""
    result = subprocess.run(
        [str(require("helm")), "--kubeconfig", str(kube.kubeconfig), "upgrade", "--install",
         RELEASE, *source, "--namespace", NAMESPACE, "--create-namespace", "--wait",
         "--timeout", "5m", "--values", "-"],
        input=yaml.safe_dump(settings),
        capture_output=True,
        text=True,
        timeout=360,
        check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"helm install of External Secrets: {result.stderr.strip()[-2000:]}")


def store(kube: Kube, region: str = "us-east-1") -> None:
    """The ClusterSecretStore, with static moto credentials, once it is Valid."""
    kube.apply(
        [
            # Applied, not created: a Helm install of the operator already made it.
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "aws-credentials", "namespace": NAMESPACE},
                "stringData": {"access-key-id": "testing", "secret-access-key": "testing"},
            },
            {
                "apiVersion": "external-secrets.io/v1",
                "kind": "ClusterSecretStore",
                "metadata": {"name": STORE},
                "spec": {
                    "provider": {
                        "aws": {
                            "service": "SecretsManager",
                            "region": region,
                            "auth": {
                                "secretRef": {
                                    "accessKeyIDSecretRef": {
                                        "name": "aws-credentials",
                                        "namespace": NAMESPACE,
                                        "key": "access-key-id",
                                    },
                                    "secretAccessKeySecretRef": {
                                        "name": "aws-credentials",
                                        "namespace": NAMESPACE,
                                        "key": "secret-access-key",
                                    },
                                }
                            },
                        }
                    }
                },
            },
        ]
    )

    def ready() -> bool:
        status: dict[str, Any] = kube.get("clustersecretstore", STORE).get("status", {})
        return any(
            c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions", [])
        )

    wait_for(ready, f"ClusterSecretStore {STORE} Ready", timeout=90)
