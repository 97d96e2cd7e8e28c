"""Build (or find cached) every binary and image the no-Docker cluster needs.

Versions are pinned here; each build lands in
``${WW_TOOL_CACHE:-~/.cache/weather-warehouse}/<tool>-<version>/`` and prints
how long it took, so a second run builds nothing.

usage: python -m scripts.cluster.build [tool ...]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from scripts.cluster.gobuild import build, module_dir, tool_dir

KUBERNETES = "v1.34.4"
ETCD = "v3.6.4"
ARGOCD = "v3.2.11"
ESO = "v0.16.2"
# The NetworkPolicy enforcer kind ships, run as the DaemonSet of its own
# install.yaml. One patch: its queue verdict goes through xtables' NFQUEUE target,
# since this machine's kernel has no nftables queue expression (see
# docs/cluster-tests.md, "The NetworkPolicy enforcer").
KUBE_NETWORK_POLICIES = "v0.8.0"
PATCHES = Path(__file__).resolve().parent / "patches"
# Cluster DNS, so that pods (Argo CD's own, the app's) find Services by name.
COREDNS = "v1.15.0"
# The image registry the node pulls from (``crane registry serve``) and the tool
# that pushes the locally built images to it (``crane push``): one binary.
CRANE = "v0.22.1"
# The Helm that Argo CD's own image carries (its hack/tool-versions.sh pins it).
ARGOCD_HELM = "v3.18.4"
# Only its CRDs (ServiceMonitor, PrometheusRule) are used, from the module zip.
PROMETHEUS_OPERATOR = "v0.85.0"
# The kind path (``make kind-test``): kind itself, and the node's crictl (the
# CRI tool kind's node images carry, at the Kubernetes minor it serves).
KIND = "v0.33.0"
CRICTL = "v1.34.0"

K8S_COMMANDS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet")
ARGOCD_NAMES = (
    "argocd-application-controller",
    "argocd-repo-server",
    "argocd-applicationset-controller",
    "argocd-server",
)


def _kubernetes(tool: str, commands: tuple[str, ...]) -> Path:
    base = "k8s.io/component-base/version"
    major, minor = KUBERNETES[1:].split(".")[:2]
    ldflags = (
        f"-X {base}.gitVersion={KUBERNETES} -X {base}.gitMajor={major} "
        f"-X {base}.gitMinor={minor} -X {base}.gitTreeState=clean"
    )
    staging = "v0." + KUBERNETES.split(".", 1)[1]
    return build(
        tool,
        KUBERNETES,
        "k8s.io/kubernetes",
        [f"k8s.io/kubernetes/cmd/{name}" for name in commands],
        local_version=lambda _name: staging,
        ldflags=ldflags,
    )


def kubernetes() -> Path:
    """kube-apiserver, -controller-manager, -scheduler and kubelet."""
    return _kubernetes("kubernetes", K8S_COMMANDS)


def kube_proxy() -> Path:
    """kube-proxy (its own cache entry: the four above are cached without it)."""
    return _kubernetes("kube-proxy", ("kube-proxy",))


def kubeadm() -> Path:
    """kubeadm and kubectl, which a kind node runs (the no-Docker path needs neither)."""
    return _kubernetes("kubeadm", ("kubeadm", "kubectl"))


def kind() -> Path:
    """kind (the module's root package is its main)."""
    return build("kind", KIND, "sigs.k8s.io/kind", ["sigs.k8s.io/kind"])


def crictl() -> Path:
    """crictl, for the kind node image (kind's own images carry it)."""
    module = "sigs.k8s.io/cri-tools"
    return build("crictl", CRICTL, module, [f"{module}/cmd/crictl"])


def etcd() -> Path:
    """etcd (the server module's root package is the etcd main)."""
    bindir = build("etcd", ETCD, "go.etcd.io/etcd/server/v3", ["go.etcd.io/etcd/server/v3"])
    if (bindir / "server").exists():  # go names a .../v3 main after "server"
        (bindir / "server").rename(bindir / "etcd")
    return bindir


def argocd() -> Path:
    """One Argo CD binary; each component is an argv[0] name (a symlink) of it."""
    bindir = build(
        "argocd", ARGOCD, "github.com/argoproj/argo-cd/v3", ["github.com/argoproj/argo-cd/v3/cmd"]
    )
    binary = bindir / "argocd"
    if not binary.exists():
        (bindir / "cmd").rename(binary)
    for name in ARGOCD_NAMES:
        link = bindir / name
        if not link.exists():
            link.symlink_to("argocd")
    return bindir


def external_secrets() -> Path:
    """The External Secrets Operator (serves external-secrets.io/v1 from 0.16)."""
    return build(
        "external-secrets",
        ESO,
        "github.com/external-secrets/external-secrets",
        ["github.com/external-secrets/external-secrets"],
    )


def kube_network_policies() -> Path:
    """kube-network-policies (``netpol``, the name its image gives the binary)."""
    module = "sigs.k8s.io/kube-network-policies"
    bindir = build(
        "kube-network-policies",
        KUBE_NETWORK_POLICIES,
        module,
        [f"{module}/cmd"],
        patch=PATCHES / "kube-network-policies-xt-nfqueue.patch",
    )
    if not (bindir / "netpol").exists():
        (bindir / "cmd").rename(bindir / "netpol")
    return bindir


def coredns() -> Path:
    """CoreDNS (the module's root package is its main)."""
    return build("coredns", COREDNS, "github.com/coredns/coredns", ["github.com/coredns/coredns"])


def argocd_helm() -> Path:
    """The Helm of Argo CD's image, at the version Argo CD pins (not the project's)."""
    return build("helm", ARGOCD_HELM, "helm.sh/helm/v3", ["helm.sh/helm/v3/cmd/helm"])


def crane() -> Path:
    """crane: a small OCI registry (``crane registry serve``) and its push command."""
    module = "github.com/google/go-containerregistry"
    return build("crane", CRANE, module, [f"{module}/cmd/crane"])


def pause_image() -> Path:
    """The pause container, compiled statically from Kubernetes' own pause.c."""
    target = tool_dir("pause", KUBERNETES)
    archive = target / "pause.oci.tar"
    if archive.exists():
        print(f"pause {KUBERNETES}: cached in {target}", flush=True)
        return archive
    started = time.monotonic()
    scratch = tool_dir("kubernetes", KUBERNETES) / "src"
    scratch.mkdir(parents=True, exist_ok=True)
    if not (scratch / "go.mod").exists():
        (scratch / "go.mod").write_text("module wwbuild\n\ngo 1.24\n")
    source = module_dir("k8s.io/kubernetes", KUBERNETES, scratch) / "build/pause/linux/pause.c"
    root = target / "rootfs"
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["gcc", "-Os", "-static", "-o", root / "pause", source, f'-DVERSION="{KUBERNETES}"'],
        check=True,
    )
    subprocess.run(["strip", root / "pause"], check=True)
    from scripts.cluster.images import rootfs_to_oci

    rootfs_to_oci(root, archive, "registry.k8s.io/pause:3.10.1", entrypoint=["/pause"])
    print(f"pause {KUBERNETES}: built in {time.monotonic() - started:.0f} s", flush=True)
    return archive


BUILDS: dict[str, Callable[[], Path]] = {
    "kubernetes": kubernetes,
    "etcd": etcd,
    "external-secrets": external_secrets,
    "argocd": argocd,
    "kube-proxy": kube_proxy,
    "kube-network-policies": kube_network_policies,
    "coredns": coredns,
    "crane": crane,
    "argocd-helm": argocd_helm,
    "pause": pause_image,
    "kind": kind,
    "crictl": crictl,
    "kubeadm": kubeadm,
}


def main(names: list[str]) -> int:
    if shutil.which("go") is None:
        # Outside CI the cluster tests then skip, saying so; CI must build them.
        print("go not found: the cluster tools are built from the Go module proxy", file=sys.stderr)
        return 1 if os.environ.get("CI") == "true" else 0
    started = time.monotonic()
    for name in names or list(BUILDS):
        BUILDS[name]()
    print(f"cluster builds: {time.monotonic() - started:.0f} s in all", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
