"""The cluster without Docker: everything built from the registries, run in a netns.

:func:`running` brings up, in one network namespace it creates: PostgreSQL,
moto, redis and a git daemon; etcd and the control plane; containerd and
kubelet (the node), kube-router (NetworkPolicies); the External Secrets
Operator and Argo CD outside the cluster. The test process's thread enters the
namespace too, so the tests reach every address directly. Teardown stops each
process by id and leaves no process, mount, namespace or link behind.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from scripts.cluster import build
from scripts.cluster.gobuild import module_dir
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


def binaries() -> dict[str, Path]:
    """Build (or find in the cache) every binary; name → path."""
    k8s = build.kubernetes()
    found = {name: k8s / name for name in build.K8S_COMMANDS}
    found["etcd"] = build.etcd() / "etcd"
    found["external-secrets"] = build.external_secrets() / "external-secrets"
    found["argocd"] = build.argocd()
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
            stop(process.pid)
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
            stop(child, grace=2)
        stop(shim, grace=5)


def _unmount_under(*roots: Path) -> None:
    """Unmount everything mounted below ``roots`` (deepest first)."""
    prefixes = tuple(str(r) for r in roots)
    mounts = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()]
    for point in sorted((m for m in mounts if m.startswith(prefixes)), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], check=False, capture_output=True)


def _cni_netns() -> set[str]:
    folder = Path("/run/netns")
    return (
        {p.name for p in folder.iterdir() if p.name.startswith("cni-")}
        if folder.exists()
        else set()
    )


@contextmanager
def running(base: Path, timings: Timings) -> Iterator[deploy.Cluster]:
    """Bring the whole cluster up under ``base``; yield its parts; always tear it down."""
    with timings.step("builds (cached after the first run)"):
        bins = binaries()
        modules = _modules(base / "modules")
        app_archive = images.app_archive(base)
    ns_before = _cni_netns()
    ns = netns.create(f"wwc{os.getpid()}")
    db_host = netns.create_database_host(ns)
    sup = Supervisor(base / "logs")
    socket = str(node.containerd_socket(base))
    sampler = memory.PeakSampler(lambda: [p.pid for _, p in sup.started] + memory.shims(socket))
    sampler.start()
    kube: Kube | None = None
    try:
        with ExitStack() as stack:
            stack.enter_context(netns.entered(ns))
            started = time.monotonic()
            keys = pki.create(base / "pki", netns.NODE_IP)
            kube = Kube(keys.kubeconfig)
            database = services.start_postgres(
                sup, db_host, base, keys.server_cert, keys.server_key
            )
            aws = services.start_moto(sup, ns)
            redis = services.start_redis(sup, ns, base)
            controlplane.start(sup, ns, bins, keys, base)
            timings.mark("control plane ready", started)
            node.start_containerd(sup, ns, base)
            digest = images.import_all(base, bins["pause"], app_archive)
            node.start_kubelet(sup, ns, bins["kubelet"], keys, base)
            _wait_node_ready(kube, sup)
            timings.mark("node Ready", started)
            node.start_kube_router(sup, ns, bins["kube-router"], keys)
            eso.install_crds(kube, modules["eso"])
            crds = modules["prometheus-operator"] / "example" / "prometheus-operator-crd"
            for name in ("servicemonitors", "prometheusrules"):
                kube.kubectl(
                    "apply", "--server-side", "-f", str(crds / f"monitoring.coreos.com_{name}.yaml")
                )
            eso.start(sup, ns, bins["external-secrets"], keys.kubeconfig, aws)
            argocd.install(kube, modules["argocd"])
            password = deploy.seed_aws(aws)
            deploy.create_database(database, password)
            eso.store(kube)
            url = f"git://{netns.NODE_IP}:{services.GIT_PORT}/{gitrepo.NAME}"
            delivery = gitrepo.dev_delivery(images.APP_TAG, digest, netns.DB_IP, aws)
            repo = gitrepo.create(base / "git", url, delivery)
            services.start_git_daemon(sup, ns, repo.bare.parent)
            argocd.start(sup, ns, bins["argocd"], kube, base=base, redis=redis)
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
            )
    finally:
        timings.peak_memory_mib = sampler.stop()
        if kube is not None:
            with netns.entered(ns):
                _stop_pods(kube, base, sup)
        sup.stop_all()
        _kill_leftover_containers(base)
        _unmount_under(base)
        for name in _cni_netns() - ns_before:
            subprocess.run(["ip", "netns", "delete", name], check=False, capture_output=True)
        netns.delete(db_host)
        netns.delete(ns)
        # The components' logs outlive the cluster, for whoever reads a failure.
        shutil.rmtree(LOGS, ignore_errors=True)
        if (base / "logs").exists():
            shutil.copytree(base / "logs", LOGS, dirs_exist_ok=True)
        shutil.rmtree(base, ignore_errors=True)
