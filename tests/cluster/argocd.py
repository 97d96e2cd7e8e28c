"""Argo CD v3.2 outside the cluster (``ARGOCD_FAKE_IN_CLUSTER``): its CRDs and
ConfigMaps from the same module version, then the repo-server, the application
controller and the ApplicationSet controller, each an argv[0] name of one binary."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import yaml

from scripts.root import as_root
from tests.cluster.kube import Kube, load_yaml
from tests.cluster.processes import Supervisor
from tests.tools import TOOLS

NAMESPACE = "argocd"
# How often Argo CD polls git and re-compares (default 180 s). Out of cluster the
# argocd-cm setting has no effect; this env var sets both the app resync and the
# repo-server's git cache. Short, so that two minutes see several compares.
RECONCILIATION = "30s"


def install(kube: Kube, module: Path) -> None:
    """CRDs and the ConfigMaps/Secrets skeleton of ``manifests/install.yaml``."""
    kube.kubectl("create", "namespace", NAMESPACE)
    for crd in sorted((module / "manifests" / "crds").glob("*-crd.yaml")):
        kube.apply(load_yaml(crd))
    skeleton = [
        d
        for d in load_yaml(module / "manifests" / "install.yaml")
        if d["kind"] in ("ConfigMap", "Secret")
    ]
    for obj in skeleton:
        obj["metadata"]["namespace"] = NAMESPACE
    kube.apply(skeleton)


def kubeconfig(kube: Kube, base: Path) -> Path:
    """The admin kubeconfig with ``argocd`` as namespace (Argo CD's own namespace)."""
    data = yaml.safe_load(kube.kubeconfig.read_text())
    data["contexts"][0]["context"]["namespace"] = NAMESPACE
    path = base / "argocd.kubeconfig"
    path.write_text(yaml.safe_dump(data))
    path.chmod(0o600)
    return path


# The repo-server's git credential socket: a fixed path in its source, not a setting.
ASKPASS_SOCKET = Path("/tmp/reposerver-ask-pass.sock")


def _socket_in_use(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX) as sock:
        try:
            sock.connect(str(path))
        except OSError:
            return False
    return True


def claim_askpass_socket() -> None:
    """Clear a stale credential socket left by an earlier run (perhaps another user's,
    which the sticky /tmp keeps this user from replacing); refuse a live one."""
    if not ASKPASS_SOCKET.exists():
        return
    if _socket_in_use(ASKPASS_SOCKET):
        raise RuntimeError(f"another Argo CD repo-server on this machine serves {ASKPASS_SOCKET}")
    subprocess.run(as_root(["rm", "-f", str(ASKPASS_SOCKET)]), check=True)


def release_askpass_socket() -> None:
    """Remove the credential socket once the repo-server is stopped (it leaves it)."""
    ASKPASS_SOCKET.unlink(missing_ok=True)


def start(sup: Supervisor, bindir: Path, kube: Kube, *, base: Path, redis: str) -> None:
    home = base / "argocd-home"
    home.mkdir()
    tmp = base / "argocd-tmp"  # its clones (_argocd-repo), not the machine's /tmp
    tmp.mkdir()
    claim_askpass_socket()
    env = {
        "ARGOCD_FAKE_IN_CLUSTER": "true",
        "KUBECONFIG": str(kubeconfig(kube, base)),
        "ARGOCD_RECONCILIATION_TIMEOUT": RECONCILIATION,
        "HOME": str(home),
        "TMPDIR": str(tmp),
        # Commit signature verification needs the keyring folder of Argo CD's image.
        "ARGOCD_GPG_ENABLED": "false",
        # The repo-server runs helm (make tools) and git.
        "PATH": f"{TOOLS / 'bin'}:{os.environ['PATH']}",
    }
    repo = "127.0.0.1:8081"
    sup.start(
        "argocd-repo-server",
        [
            str(bindir / "argocd-repo-server"),
            "--port",
            "8081",
            "--metrics-port",
            "8084",
            "--disable-tls",
            "--redis",
            redis,
        ],
        env=env,
    )
    sup.start(
        "argocd-application-controller",
        [
            str(bindir / "argocd-application-controller"),
            "--repo-server",
            repo,
            "--repo-server-plaintext",
            "--redis",
            redis,
            "--metrics-port",
            "8082",
            "--status-processors",
            "4",
            "--operation-processors",
            "2",
        ],
        env=env,
    )
    # Its default metrics and probe ports are the repo-server's.
    sup.start(
        "argocd-applicationset-controller",
        [
            str(bindir / "argocd-applicationset-controller"),
            "--argocd-repo-server",
            repo,
            "--repo-server-plaintext",
            "--metrics-addr",
            "127.0.0.1:18080",
            "--probe-addr",
            "127.0.0.1:18081",
        ],
        env=env,
    )
