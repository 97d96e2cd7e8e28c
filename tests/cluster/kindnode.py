"""What a kind node needs here: its image, the images kubeadm runs, its config.

kind's own ``build node-image`` cannot run offline (it fetches kindnetd,
CoreDNS, etcd and pause by name), so the node image is assembled the way
kind's base image lays it out (``kind-node.Containerfile``) from Debian's
systemd, containerd, runc and CNI plugins and the binaries built here. The
control plane's images, kube-proxy's and pause are built from the same
binaries as the no-Docker path's. All of them are pushed to the run's
registry (:mod:`tests.cluster.registry`): Docker pulls the node image from it,
and the node's containerd pulls ``registry.k8s.io/...`` through a mirror
entry pointing at it, so kubeadm and kind run unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from scripts.cluster import build
from scripts.cluster.gobuild import module_dir, tool_dir
from tests.cluster import audit, netns
from tests.cluster.addon_images import AddonImage

# The tag our etcd build carries (kubeadm 1.34 names 3.6.5-0; the config says so).
ETCD_TAG = build.ETCD.lstrip("v") + "-0"
PAUSE_TAG = "3.10.1"  # the sandbox image kubeadm 1.34 expects
NODE_NAME = "ww-gitops-control-plane"
AUDIT_IN_NODE = "/var/log/kubernetes/audit"
POLICY_IN_NODE = "/etc/kubernetes/audit-policy"


def _kind_base_files() -> Path:
    scratch = tool_dir("kind", build.KIND) / "src"
    return module_dir("sigs.k8s.io/kind", build.KIND, scratch) / "images" / "base" / "files"


def _cni() -> str:
    """The node's CNI: ptp links in one /24, routed by the node (as on the no-Docker path)."""
    plugin = {
        "type": "ptp",
        "ipMasq": False,
        "mtu": 1500,
        "ipam": {
            "type": "host-local",
            "ranges": [[{"subnet": netns.POD_CIDR}]],
            "routes": [{"dst": "0.0.0.0/0"}],
        },
    }
    return json.dumps({"cniVersion": "0.4.0", "name": "ww", "plugins": [plugin]}, indent=2)


def images() -> list[AddonImage]:
    """The node image, then the images kubeadm runs, named as registry.k8s.io names them."""
    k8s, tools = build.kubernetes(), build.kubeadm()
    node = AddonImage(
        "kind-node",
        "kindest/node",
        f"{build.KUBERNETES}-ww",
        {
            "base": _kind_base_files(),
            "kubelet": k8s / "kubelet",
            "kubeadm": tools / "kubeadm",
            "kubectl": tools / "kubectl",
            "crictl": build.crictl() / "crictl",
            "10-ww.conflist": _cni(),
            "version": f"{build.KUBERNETES}\n",
        },
    )
    components = [
        AddonImage(name, name, build.KUBERNETES, {name: k8s / name},
                   recipe="kube-component", args=(("BINARY", name),))
        for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
    ]  # fmt: skip
    etcd = AddonImage("etcd", "etcd", ETCD_TAG, {"etcd": build.etcd() / "etcd"},
                      recipe="kube-component", args=(("BINARY", "etcd"),))  # fmt: skip
    proxy = AddonImage(
        "kube-proxy",
        "kube-proxy",
        build.KUBERNETES,
        {"kube-proxy": build.kube_proxy() / "kube-proxy"},
    )
    pause_binary = build.pause_image().parent / "rootfs" / "pause"
    pause = AddonImage("pause", "pause", PAUSE_TAG, {"pause": pause_binary})
    return [node, *components, etcd, proxy, pause]


def _kubeadm_patch() -> str:
    """kubeadm's ClusterConfiguration (v1beta3: kind v0.33 uses it below Kubernetes
    1.36): our etcd's tag, and the API server's audit log."""
    patch = {
        "kind": "ClusterConfiguration",
        "etcd": {"local": {"imageTag": ETCD_TAG}},
        "apiServer": {
            "extraArgs": {
                "audit-log-path": f"{AUDIT_IN_NODE}/audit.log",
                "audit-policy-file": f"{POLICY_IN_NODE}/audit-policy.yaml",
                "audit-log-format": "json",
                "audit-log-mode": "blocking",
            },
            "extraVolumes": [
                {"name": "audit-policy", "hostPath": POLICY_IN_NODE,
                 "mountPath": POLICY_IN_NODE, "readOnly": True, "pathType": "Directory"},
                {"name": "audit-log", "hostPath": AUDIT_IN_NODE,
                 "mountPath": AUDIT_IN_NODE, "readOnly": False, "pathType": "DirectoryOrCreate"},
            ],
        },
    }  # fmt: skip
    return yaml.safe_dump(patch)


def _containerd_patch(registry: str) -> str:
    """Pulls of registry.k8s.io and of the run's registry go to the run's registry
    (plain HTTP); this machine lacks CAP_SYS_RESOURCE (oom_score_adj)."""
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    return (
        f"[{cri}]\n  restrict_oom_score_adj = true\n"
        f'[{cri}.registry.mirrors."registry.k8s.io"]\n  endpoint = ["http://{registry}"]\n'
        f'[{cri}.registry.mirrors."{registry}"]\n  endpoint = ["http://{registry}"]\n'
    )


def config(base: Path, registry: str, namespace: str) -> Path:
    """kind's cluster config; the audit policy and log live in ``base`` (mounted),
    as does ``base/share`` (the app's image archive, the enforcer's log)."""
    audit.write_policy(base / "audit-policy", namespace)
    (base / "audit").mkdir(exist_ok=True)
    node = {
        "role": "control-plane",
        "kubeadmConfigPatches": [_kubeadm_patch()],
        "extraMounts": [
            {"hostPath": str(base / "audit-policy"), "containerPath": POLICY_IN_NODE,
             "readOnly": True},
            {"hostPath": str(base / "audit"), "containerPath": AUDIT_IN_NODE},
            {"hostPath": str(base / "share"), "containerPath": "/ww"},
        ],
    }  # fmt: skip
    cluster = {
        "kind": "Cluster",
        "apiVersion": "kind.x-k8s.io/v1alpha4",
        "networking": {
            # kindnet is not served by the Go module proxy: the image's ptp config.
            "disableDefaultCNI": True,
            "podSubnet": netns.POD_CIDR,
            "serviceSubnet": netns.SERVICE_CIDR,
        },
        "containerdConfigPatches": [_containerd_patch(registry)],
        "nodes": [node],
    }
    path = base / "kind.yaml"
    path.write_text(yaml.safe_dump(cluster))
    return path
