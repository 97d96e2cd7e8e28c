"""The node: Debian's containerd with runc and CNI ptp links, kubelet and
kube-proxy (Services); NetworkPolicies are a DaemonSet's (:mod:`tests.cluster.netpol`).

containerd, kubelet and kube-proxy run as root (through sudo when the
tests do not); containerd's socket belongs to the invoking user, so ``ctr``
needs no root. Images come from the run's own registry (the add-ons) or are
imported from an archive with ``ctr`` (pause, the app); containerd's proxy
points every other pull at a closed loopback port, so no pull can leave the
machine. Pods resolve names through CoreDNS, which knows cluster names only.
Each pod's network namespace is mounted under containerd's state folder, not
in the machine's ``/run/netns``: the run removes its own and no one else's.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.cluster.netns import CLUSTER_DNS_IP, NODE_IP, POD_CIDR
from tests.cluster.pki import Pki
from tests.cluster.processes import Supervisor, wait_for
from tests.cluster.registry import ADDRESS as REGISTRY

NODE_NAME = "ww-node"
PAUSE_IMAGE = "registry.k8s.io/pause:3.10.1"
CNI_BIN = Path("/usr/lib/cni")
CLOSED_PROXY = "http://127.0.0.1:9"  # discard port, nothing listens: pulls fail at once

CONTAINERD_TOML = """\
version = 2
root = "{base}/containerd/root"
state = "{base}/containerd/state"

[grpc]
  address = "{base}/containerd/containerd.sock"
  uid = {uid}
  gid = {gid}

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "{base}/containerd/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{pause}"
  # This sandbox's root lacks CAP_SYS_RESOURCE: runc could not raise oom_score_adj.
  restrict_oom_score_adj = true
  enable_selinux = false
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{cni_bin}"
    conf_dir = "{base}/cni/net.d"
  # The run's own registry (tests/cluster/registry.py) speaks plain HTTP.
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."{registry}"]
    endpoint = ["http://{registry}"]
"""


def containerd_socket(base: Path) -> Path:
    return base / "containerd" / "containerd.sock"


def ctr(base: Path, *args: str) -> str:
    """Run ``ctr`` against this node's containerd (namespace k8s.io)."""
    command = ["ctr", "--address", str(containerd_socket(base)), "--namespace", "k8s.io", *args]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def _write_cni(base: Path) -> None:
    # ptp: every pod is a routed /32, so pod-to-pod traffic crosses this
    # namespace's forwarding, where the policy enforcer's rules sit (a bridge
    # would switch it past iptables without br_netfilter).
    conf = {
        "cniVersion": "0.4.0",
        "name": "ww",
        "plugins": [
            {
                "type": "ptp",
                "ipMasq": False,
                "mtu": 1500,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": POD_CIDR}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": str(base / "cni" / "ipam"),
                },
            }
        ],
    }
    folder = base / "cni" / "net.d"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "10-ww.conflist").write_text(json.dumps(conf, indent=2))


def start_containerd(sup: Supervisor, base: Path) -> None:
    """containerd with the CRI plugin, its state under ``base``."""
    _write_cni(base)
    config = base / "containerd" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        CONTAINERD_TOML.format(
            base=base,
            pause=PAUSE_IMAGE,
            cni_bin=CNI_BIN,
            uid=os.getuid(),
            gid=os.getgid(),
            registry=REGISTRY,
        )
    )
    # Every pull but the run's own registry's goes to a closed port.
    proxy = {"HTTP_PROXY": CLOSED_PROXY, "HTTPS_PROXY": CLOSED_PROXY, "NO_PROXY": REGISTRY}
    sup.start("containerd", ["containerd", "--config", str(config)], env=proxy, root=True)
    wait_for(lambda: ctr(base, "version"), "containerd", timeout=60, supervisor=sup)


def import_image(base: Path, archive: Path) -> None:
    """Import a docker-archive or OCI archive into the node's image store."""
    ctr(base, "images", "import", "--no-unpack", str(archive))


def image_digest(listing: str, name: str) -> str:
    """The manifest digest of ``name`` in ``ctr images ls``'s output."""
    for line in listing.splitlines()[1:]:
        fields = line.split()
        if fields and fields[0] == name:
            return next(f for f in fields if f.startswith("sha256:"))
    raise LookupError(f"image {name} not in containerd")


def cgroup_v2() -> bool:
    """Whether the host mounts the unified cgroup v2 hierarchy."""
    return _fs_type("/sys/fs/cgroup") == "cgroup2fs"


def _fs_type(path: str) -> str:
    return subprocess.run(
        ["stat", "-f", "-c", "%T", path], capture_output=True, text=True, check=True
    ).stdout.strip()


def kubelet_config(base: Path) -> dict[str, object]:
    resolv = base / "kubelet-resolv.conf"
    # The node's own resolver, for host-network pods: nothing answers on the
    # namespace's loopback, so they resolve nothing (the others ask CoreDNS).
    resolv.write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": NODE_IP,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "authentication": {"anonymous": {"enabled": True}, "webhook": {"enabled": False}},
        "authorization": {"mode": "AlwaysAllow"},
        "cgroupDriver": "cgroupfs",
        # On a cgroup v1 host (this machine), 1.34 still runs when told so; on v2
        # (GitHub's ubuntu-24.04 runners) the setting keeps its default.
        **({} if cgroup_v2() else {"failCgroupV1": False}),
        "failSwapOn": False,
        "containerRuntimeEndpoint": f"unix://{containerd_socket(base)}",
        "resolvConf": str(resolv),
        "clusterDomain": "cluster.local",
        # CoreDNS's Service (tests/cluster/coredns.py): pods resolve cluster names only.
        "clusterDNS": [CLUSTER_DNS_IP],
        # A shared build machine's disk and memory are not this node's to guard.
        "evictionHard": {
            "memory.available": "50Mi",
            "nodefs.available": "1%",
            "imagefs.available": "1%",
            "nodefs.inodesFree": "1%",
        },
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "serializeImagePulls": False,
        "maxPods": 50,
        "podLogsDir": str(base / "pod-logs"),
    }


def start_kubelet(sup: Supervisor, kubelet: Path, pki: Pki, base: Path) -> None:
    config = base / "kubelet.yaml"
    config.write_text(json.dumps(kubelet_config(base)))
    sup.start(
        "kubelet",
        [
            str(kubelet),
            "--config",
            str(config),
            "--kubeconfig",
            str(pki.kubeconfig),
            "--hostname-override",
            NODE_NAME,
            "--node-ip",
            NODE_IP,
            "--root-dir",
            str(base / "kubelet"),
        ],
        root=True,
    )


def start_kube_proxy(sup: Supervisor, kube_proxy: Path, pki: Pki) -> None:
    """kube-proxy (iptables mode) in the namespace: ClusterIP Services route, for pods
    and for the node's own processes (a pod's in-cluster client reaches 10.96.0.1)."""
    sup.start(
        "kube-proxy",
        [
            str(kube_proxy),
            "--kubeconfig",
            str(pki.kubeconfig),
            "--hostname-override",
            NODE_NAME,
            "--proxy-mode",
            "iptables",
            "--cluster-cidr",
            POD_CIDR,
            # Leave the machine-wide conntrack settings alone: 0 means "do not set".
            "--conntrack-max-per-core",
            "0",
            "--conntrack-tcp-timeout-established",
            "0",
            "--conntrack-tcp-timeout-close-wait",
            "0",
            "--metrics-bind-address",
            "127.0.0.1:10249",
            "--healthz-bind-address",
            "127.0.0.1:10256",
        ],
        root=True,
    )
