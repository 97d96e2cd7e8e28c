"""The External Secrets Operator outside the cluster, and the ClusterSecretStore
for AWS Secrets Manager (moto) that the platform would create on EKS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.cluster.kube import Kube, load_yaml
from tests.cluster.processes import Supervisor, wait_for

NAMESPACE = "external-secrets"
STORE = "aws-secrets-manager"  # k8s/envs/dev/values.yaml's storeRef


def install_crds(kube: Kube, module: Path) -> None:
    """The CRDs of the operator's own version, without the conversion webhook
    (only v1 is served to and stored here; nothing runs the webhook)."""
    crds = load_yaml(module / "deploy" / "crds" / "bundle.yaml")
    for crd in crds:
        crd["spec"].pop("conversion", None)
    kube.apply(crds)


def start(sup: Supervisor, binary: Path, kubeconfig: Path, aws_endpoint: str) -> None:
    sup.start(
        "external-secrets",
        [
            str(binary),
            "--enable-leader-election=false",
            "--metrics-addr",
            "127.0.0.1:18090",
            "--concurrent",
            "2",
        ],
        env={
            "KUBECONFIG": str(kubeconfig),
            # v0.16 uses aws-sdk-go v1, which reads this rather than AWS_ENDPOINT_URL_*.
            "AWS_SECRETSMANAGER_ENDPOINT": aws_endpoint,
            "AWS_STS_ENDPOINT": aws_endpoint,
        },
    )


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
