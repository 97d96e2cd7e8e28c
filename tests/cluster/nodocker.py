"""The cluster without Docker: everything built from the registries, run in a netns.

:func:`prepare` builds (or finds cached) what the cluster runs, before any
namespace exists, since the builds need the registries. :func:`running` then
brings up, inside the namespace the launcher (:mod:`tests.cluster.launch`) made
and started the tests in: PostgreSQL (on its own database host), moto, redis
and a git daemon; etcd and the control plane; containerd and kubelet (the
node) with kube-proxy (Services) and kube-router (NetworkPolicies); the External
Secrets Operator and Argo CD
outside the cluster. Root is taken only for the node's processes, entering the
database host and the clean-up of what they left (mounts, root-owned state).
Teardown stops each process by id and leaves no process or mount behind; the
launcher then deletes the namespaces and the folder.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scripts.cluster import build
from scripts.cluster.gobuild import module_dir
from scripts.root import as_root
from tests.cluster import (
    argocd,
    controlplane,
    deploy,
    eso,
    gitrepo,
    images,
    memory,
    netns,
    node,
    pki,
    services,
)
from tests.cluster.kube import Kube
from tests.cluster.processes import Supervisor, stop, wait_for
from tests.cluster.timings import Timings
from tests.tools import REPO

LOGS = REPO / ".cache" / "cluster-logs"
PREPARED = "prepared.json"


def binaries() -> dict[str, Path]:
    """Build (or find in the cache) every binary; name → path."""
    k8s = build.kubernetes()
    found = {name: k8s / name for name in build.K8S_COMMANDS}
    found["etcd"] = build.etcd() / "etcd"
    found["external-secrets"] = build.external_secrets() / "external-secrets"
    found["argocd"] = build.argocd()
    found["kube-proxy"] = build.kube_proxy() / "kube-proxy"
    found["kube-router"] = build.kube_router() / "kube-router"
    found["pause"] = build.pause_image()
    return found


def _modules(scratch: Path) -> dict[str, Path]:
    """Module folders holding the CRDs and Argo CD's skeleton, same versions as the binaries."""
    scratch.mkdir(parents=True, exist_ok=True)
    (scratch / "go.mod").write_text("module crds\n\ngo 1.24\n")
    return {
        "argocd": module_dir("github.com/argoproj/argo-cd/v3", build.ARGOCD, scratch),
        "eso": module_dir("github.com/external-secrets/external-secrets", build.ESO, scratch),
        "prometheus-operator": module_dir(
            "github.com/prometheus-operator/prometheus-operator", build.PROMETHEUS_OPERATOR, scratch
        ),
    }


def _wait_node_ready(kube: Kube, sup: Supervisor) -> None:
    def ready() -> bool:
        status = kube.get("node", node.NODE_NAME)["status"]
        return any(c["type"] == "Ready" and c["status"] == "True" for c in status["conditions"])

    wait_for(ready, "node Ready", timeout=180, supervisor=sup)


def _stop_pods(kube: Kube, base: Path, sup: Supervisor) -> None:
    """Let kubelet tear every pod down (CNI DEL, unmounts) before it stops."""
    for name, process in sup.started:
        if name.startswith(("argocd", "external-secrets", "kube-controller")):
            stop(process.pid, root=process.pid in sup.as_root)
    try:
        kube.kubectl(
            "delete",
            "pods",
            "--all",
            "--all-namespaces",
            "--grace-period=0",
            "--force",
            "--wait=false",
        )
        wait_for(
            lambda: not node.ctr(base, "tasks", "ls", "-q").strip(), "pods stopped", timeout=60
        )
    except (RuntimeError, TimeoutError, subprocess.SubprocessError):
        pass  # the pid sweep below still stops whatever is left


def _kill_leftover_containers(base: Path) -> None:
    """Tasks and shims of this containerd, found by its socket, killed by pid."""
    for shim in memory.shims(str(node.containerd_socket(base))):
        for child in memory.descendants(shim):
            stop(child, grace=2, root=True)
        stop(shim, grace=5, root=True)


def _unmount_under(*roots: Path) -> None:
    """Unmount everything mounted below ``roots`` (deepest first)."""
    prefixes = tuple(str(r) for r in roots)
    mounts = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()]
    for point in sorted((m for m in mounts if m.startswith(prefixes)), key=len, reverse=True):
        subprocess.run(as_root(["umount", "-l", point]), check=False, capture_output=True)


def prepare(base: Path) -> None:
    """Build or find every binary, module and image; note their paths in ``base``."""
    found = {name: str(path) for name, path in binaries().items()}
    found |= {f"module:{name}": str(path) for name, path in _modules(base / "modules").items()}
    found["app-image"] = str(images.app_archive(base))
    (base / PREPARED).write_text(json.dumps(found, indent=2))


def _prepared(base: Path) -> tuple[dict[str, Path], dict[str, Path], Path]:
    found = {k: Path(v) for k, v in json.loads((base / PREPARED).read_text()).items()}
    modules = {k.split(":", 1)[1]: v for k, v in found.items() if k.startswith("module:")}
    bins = {k: v for k, v in found.items() if ":" not in k and k != "app-image"}
    return bins, modules, found["app-image"]


@contextmanager
def running(ns: netns.Netns, base: Path, timings: Timings) -> Iterator[deploy.Cluster]:
    """Bring the whole cluster up under ``base``; yield its parts; always tear it down."""
    bins, modules, app_archive = _prepared(base)
    sup = Supervisor(base / "logs")
    socket = str(node.containerd_socket(base))
    sampler = memory.PeakSampler(lambda: [p.pid for _, p in sup.started] + memory.shims(socket))
    sampler.start()
    kube: Kube | None = None
    try:
        started = time.monotonic()
        keys = pki.create(base / "pki", netns.NODE_IP)
        kube = Kube(keys.kubeconfig)
        database = services.start_postgres(
            sup, ns.database_host, base, keys.server_cert, keys.server_key
        )
        aws = services.start_moto(sup)
        redis = services.start_redis(sup, base)
        controlplane.start(sup, bins, keys, base)
        timings.mark("control plane ready", started)
        node.start_containerd(sup, base)
        digest = images.import_all(base, bins["pause"], app_archive)
        node.start_kubelet(sup, bins["kubelet"], keys, base)
        node.start_kube_proxy(sup, bins["kube-proxy"], keys)
        _wait_node_ready(kube, sup)
        timings.mark("node Ready", started)
        node.start_kube_router(sup, bins["kube-router"], keys)
        eso.install_crds(kube, modules["eso"])
        crds = modules["prometheus-operator"] / "example" / "prometheus-operator-crd"
        for name in ("servicemonitors", "prometheusrules"):
            kube.kubectl(
                "apply", "--server-side", "-f", str(crds / f"monitoring.coreos.com_{name}.yaml")
            )
        eso.start(sup, bins["external-secrets"], keys.kubeconfig, aws)
        argocd.install(kube, modules["argocd"])
        password = deploy.seed_aws(aws)
        deploy.create_database(database, password)
        eso.store(kube)
        url = f"git://{netns.NODE_IP}:{services.GIT_PORT}/{gitrepo.NAME}"
        delivery = gitrepo.dev_delivery(images.APP_TAG, digest, netns.DB_IP, aws)
        repo = gitrepo.create(base / "git", url, delivery)
        services.start_git_daemon(sup, repo.bare.parent)
        argocd.start(sup, bins["argocd"], kube, base=base, redis=redis)
        deploy.apply_argocd_objects(kube, repo.work)
        timings.mark("cluster up, argocd/ applied", started)
        yield deploy.Cluster(
            kube,
            repo,
            database,
            netns.DB_IP,
            aws,
            password,
            timings,
            started,
            api_server=f"https://{netns.NODE_IP}:6443",
            ca_file=keys.ca,
            token=keys.token,
            scratch=base / "scratch",
            audit_log=controlplane.audit_log(base),
        )
    finally:
        timings.peak_memory_mib = sampler.stop()
        if kube is not None:
            _stop_pods(kube, base, sup)
        sup.stop_all()
        argocd.release_askpass_socket()
        _kill_leftover_containers(base)
        _unmount_under(base)
        # The components' logs outlive the cluster, for whoever reads a failure.
        shutil.rmtree(LOGS, ignore_errors=True)
        if (base / "logs").exists():
            shutil.copytree(base / "logs", LOGS, dirs_exist_ok=True)
