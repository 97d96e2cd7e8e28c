"""Cluster DNS: CoreDNS as kubeadm installs it, and names for what lives outside.

Pods resolve Service names through CoreDNS (``kube-dns`` at CLUSTER_DNS_IP) and
nothing else: the Corefile has no ``forward``, so no query leaves the cluster.
The git daemon and moto run beside the node, as GitHub and AWS do beside EKS;
:func:`outside_names` gives each a Service without a selector whose
EndpointSlice points at its address, so Argo CD and ESO reach them by name
through the same DNS and kube-proxy path as any Service.
"""

from __future__ import annotations

from typing import Any

from tests.cluster.kube import Kube
from tests.cluster.netns import CLUSTER_DNS_IP

NAMESPACE = "kube-system"
# CoreDNS listens above 1024 (it runs as a non-root user with no capabilities);
# the Service maps port 53 to it.
PORT = 1053
OUTSIDE = "outside"  # the namespace of the names for what runs beside the cluster

COREFILE = f"""\
.:{PORT} {{
    errors
    health :8080
    ready :8181
    kubernetes cluster.local in-addr.arpa ip6.arpa {{
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }}
    cache 30
    loadbalance
}}
"""

LABELS = {"k8s-app": "kube-dns"}


def _rbac() -> list[dict[str, Any]]:
    meta = {"name": "system:coredns"}
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": {"name": "coredns", "namespace": NAMESPACE}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": meta,
         "rules": [
             {"apiGroups": [""], "resources": ["endpoints", "services", "pods", "namespaces"],
              "verbs": ["list", "watch"]},
             {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"],
              "verbs": ["list", "watch"]},
         ]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": meta,
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                     "name": "system:coredns"},
         "subjects": [{"kind": "ServiceAccount", "name": "coredns", "namespace": NAMESPACE}]},
    ]  # fmt: skip


def _deployment(image: str) -> dict[str, Any]:
    container = {
        "name": "coredns",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "args": ["-conf", "/etc/coredns/Corefile"],
        "ports": [
            {"name": "dns", "containerPort": PORT, "protocol": "UDP"},
            {"name": "dns-tcp", "containerPort": PORT, "protocol": "TCP"},
        ],
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8181}, "periodSeconds": 2},
        "livenessProbe": {"httpGet": {"path": "/health", "port": 8080}},
        "resources": {"requests": {"cpu": "50m", "memory": "40Mi"},
                      "limits": {"memory": "170Mi"}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": [{"name": "config", "mountPath": "/etc/coredns", "readOnly": True}],
    }  # fmt: skip
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "coredns", "namespace": NAMESPACE, "labels": LABELS},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": LABELS},
            "template": {
                "metadata": {"labels": LABELS},
                "spec": {
                    "serviceAccountName": "coredns",
                    "priorityClassName": "system-cluster-critical",
                    # Its own upstream would be the node's resolver: Default, not itself.
                    "dnsPolicy": "Default",
                    "containers": [container],
                    "volumes": [{"name": "config", "configMap": {"name": "coredns"}}],
                },
            },
        },
    }


def manifests(image: str) -> list[dict[str, Any]]:
    """CoreDNS's ServiceAccount, RBAC, Corefile, Deployment and the kube-dns Service."""
    return [
        *_rbac(),
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": "coredns", "namespace": NAMESPACE},
         "data": {"Corefile": COREFILE}},
        _deployment(image),
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": "kube-dns", "namespace": NAMESPACE, "labels": LABELS},
         "spec": {"selector": LABELS, "clusterIP": CLUSTER_DNS_IP, "ports": [
             {"name": "dns", "port": 53, "targetPort": PORT, "protocol": "UDP"},
             {"name": "dns-tcp", "port": 53, "targetPort": PORT, "protocol": "TCP"},
         ]}},
    ]  # fmt: skip


def install(kube: Kube, image: str) -> None:
    """Apply CoreDNS (:func:`wait_ready` waits for it)."""
    kube.apply(manifests(image))


def wait_ready(kube: Kube) -> None:
    """Wait until CoreDNS answers (its readiness probe)."""
    kube.kubectl("rollout", "status", "deployment/coredns", "-n", NAMESPACE, "--timeout=180s")


def outside_names(kube: Kube, names: dict[str, tuple[str, int]]) -> dict[str, str]:
    """A Service per name (``name → (ip, port)``) pointing outside; name → its DNS name."""
    objects: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": OUTSIDE}}
    ]
    for name, (ip, port) in names.items():
        objects += [
            {"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": name, "namespace": OUTSIDE},
             "spec": {"ports": [{"name": "main", "port": port, "protocol": "TCP"}]}},
            {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
             "metadata": {"name": name, "namespace": OUTSIDE,
                          "labels": {"kubernetes.io/service-name": name}},
             "addressType": "IPv4",
             "endpoints": [{"addresses": [ip], "conditions": {"ready": True}}],
             "ports": [{"name": "main", "port": port, "protocol": "TCP"}]},
        ]  # fmt: skip
    kube.apply(objects)
    return {name: f"{name}.{OUTSIDE}.svc.cluster.local" for name in names}
