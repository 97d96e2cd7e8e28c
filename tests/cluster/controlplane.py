"""etcd, kube-apiserver, kube-controller-manager and kube-scheduler, in the namespace."""

from __future__ import annotations

import ssl
import urllib.request
from pathlib import Path

from tests.cluster import audit, deploy
from tests.cluster.netns import NODE_IP, SERVICE_CIDR
from tests.cluster.pki import Pki
from tests.cluster.processes import Supervisor, wait_for

CLUSTER_CIDR = "10.244.0.0/16"


def audit_log(base: Path) -> Path:
    """Where the API server writes its audit events."""
    return base / "audit" / "audit.log"


def start(sup: Supervisor, bins: dict[str, Path], pki: Pki, base: Path) -> str:
    """Start the control plane; return the API server URL once it is ready."""
    sup.start(
        "etcd",
        [
            str(bins["etcd"]),
            "--data-dir",
            str(base / "etcd"),
            "--listen-client-urls",
            "http://127.0.0.1:2379",
            "--advertise-client-urls",
            "http://127.0.0.1:2379",
            "--listen-peer-urls",
            "http://127.0.0.1:2380",
            "--listen-metrics-urls",
            "http://127.0.0.1:2381",
            # One test module's throw-away data: durability buys nothing here.
            "--unsafe-no-fsync",
            "--quota-backend-bytes",
            str(2 * 1024**3),
        ],
    )
    url = f"https://{NODE_IP}:6443"
    sup.start(
        "kube-apiserver",
        [
            str(bins["kube-apiserver"]),
            "--etcd-servers",
            "http://127.0.0.1:2379",
            "--bind-address",
            NODE_IP,
            "--advertise-address",
            NODE_IP,
            "--secure-port",
            "6443",
            "--tls-cert-file",
            str(pki.server_cert),
            "--tls-private-key-file",
            str(pki.server_key),
            "--client-ca-file",
            str(pki.ca),
            "--token-auth-file",
            str(pki.tokens),
            "--authorization-mode",
            "RBAC",
            "--service-account-key-file",
            str(pki.sa_pub),
            "--service-account-signing-key-file",
            str(pki.sa_key),
            "--service-account-issuer",
            "https://kubernetes.default.svc",
            "--service-cluster-ip-range",
            SERVICE_CIDR,
            # kubectl logs/exec: reach the kubelet by IP, the node name is in no DNS.
            "--kubelet-preferred-address-types",
            "InternalIP",
            "--enable-priority-and-fairness=false",
            # As kubeadm and kind do: node agents (the policy enforcer's DaemonSet)
            # run privileged; Pod Security still refuses it in restricted namespaces.
            "--allow-privileged=true",
            # What the tests read the order and the count of creations from.
            "--audit-policy-file",
            str(audit.write_policy(base / "audit", deploy.NAMESPACE)),
            "--audit-log-path",
            str(audit_log(base)),
            "--audit-log-format",
            "json",
            "--audit-log-mode",
            "blocking",
            "--profiling=false",
            "--cert-dir",
            str(base / "apiserver"),
        ],
    )
    context = ssl.create_default_context(cafile=str(pki.ca))

    def ready() -> bool:
        request = urllib.request.Request(
            f"{url}/readyz", headers={"Authorization": f"Bearer {pki.token}"}
        )
        with urllib.request.urlopen(request, timeout=2, context=context) as response:
            return bool(response.status == 200)

    wait_for(ready, "kube-apiserver /readyz", timeout=120, supervisor=sup)
    kubeconfig = str(pki.kubeconfig)
    sup.start(
        "kube-controller-manager",
        [
            str(bins["kube-controller-manager"]),
            "--kubeconfig",
            kubeconfig,
            "--authentication-kubeconfig",
            kubeconfig,
            "--authorization-kubeconfig",
            kubeconfig,
            "--leader-elect=false",
            "--bind-address",
            "127.0.0.1",
            "--service-account-private-key-file",
            str(pki.sa_key),
            "--root-ca-file",
            str(pki.ca),
            "--use-service-account-credentials=false",
            "--allocate-node-cidrs",
            "--cluster-cidr",
            CLUSTER_CIDR,
            "--node-cidr-mask-size",
            "24",
            "--service-cluster-ip-range",
            SERVICE_CIDR,
            # Finished ingest Jobs and hook Jobs are counted by the tests: keep them.
            "--terminated-pod-gc-threshold",
            "1000",
        ],
    )
    sup.start(
        "kube-scheduler",
        [
            str(bins["kube-scheduler"]),
            "--kubeconfig",
            kubeconfig,
            "--authentication-kubeconfig",
            kubeconfig,
            "--authorization-kubeconfig",
            kubeconfig,
            "--leader-elect=false",
            "--bind-address",
            "127.0.0.1",
        ],
    )
    return url
