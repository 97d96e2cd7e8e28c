"""The cluster without Docker: everything built from the registries, run in a netns.

:func:`prepare` builds (or finds cached) what the cluster runs, before any
namespace exists, since the builds need the registries. :func:`running` then
brings up, inside the namespace the launcher (:mod:`tests.cluster.launch`) made
and started the tests in: PostgreSQL (on its own database host), moto,
a git daemon and an image registry; etcd and the control plane; containerd and
kubelet (the node) with kube-proxy (Services); then, as pods pulled from the
registry, kube-network-policies (NetworkPolicies, its ``install.yaml``),
CoreDNS, the External Secrets Operator (its Helm chart) and Argo CD (its
``core-install.yaml``). Root is taken only for
the node's processes, entering the database host and the clean-up of what they
left (mounts, root-owned state).
Teardown stops each process by id and leaves no process or mount behind; the
launcher then deletes the namespaces and the folder.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from scripts.cluster import build
from scripts.cluster.gobuild import module_dir
from scripts.root import as_root
from tests.cluster import (
    addon_images,
    argocd,
    controlplane,
    coredns,
    deploy,
    eso,
    gitrepo,
    images,
    memory,
    netns,
    netpol,
    node,
    pki,
    registry,
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
    found["kube-proxy"] = build.kube_proxy() / "kube-proxy"
    found["crane"] = build.crane() / "crane"
    found["pause"] = build.pause_image()
    return found


def _modules(scratch: Path) -> dict[str, Path]:
    """Module folders holding the CRDs and Argo CD's skeleton, same versions as the binaries."""
    scratch.mkdir(parents=True, exist_ok=True)
    (scratch / "go.mod").write_text("module crds\n\ngo 1.24\n")
    return {
        "argocd": module_dir("github.com/argoproj/argo-cd/v3", build.ARGOCD, scratch),
        "eso": module_dir("github.com/external-secrets/external-secrets", build.ESO, scratch),
        "kube-network-policies": module_dir(
            "sigs.k8s.io/kube-network-policies", build.KUBE_NETWORK_POLICIES, scratch
        ),
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
        if name.startswith("kube-controller"):  # no pod is re-created after the delete
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


def unmount_under(*roots: Path) -> None:
    """Unmount everything mounted below ``roots`` (deepest first)."""
    prefixes = tuple(str(r) for r in roots)
    mounts = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()]
    for point in sorted((m for m in mounts if m.startswith(prefixes)), key=len, reverse=True):
        subprocess.run(as_root(["umount", "-l", point]), check=False, capture_output=True)


def prepare(base: Path, kind: bool = False) -> None:
    """Build or find every binary, module and image (``kind``: the kind node's too);
    note their paths in ``base``."""
    found = {name: str(path) for name, path in binaries().items()}
    modules = _modules(base / "modules")
    found |= {f"module:{name}": str(path) for name, path in modules.items()}
    found["app-image"] = str(images.app_archive(base))
    addons = addon_images.build_all(addon_images.addons(modules["argocd"]))
    found |= {f"image:{name}": str(path) for name, path in addons.items()}
    if kind:
        from tests.cluster import kindnode

        node = addon_images.build_all(kindnode.images())
        found |= {f"image:kind:{name}": str(path) for name, path in node.items()}
    (base / PREPARED).write_text(json.dumps(found, indent=2))


def prepared(base: Path) -> tuple[dict[str, Path], dict[str, Path], dict[str, Path], Path]:
    """Binaries, modules, add-on image archives (by name), the app's archive."""
    found = {k: Path(v) for k, v in json.loads((base / PREPARED).read_text()).items()}

    def part(prefix: str) -> dict[str, Path]:
        return {k.split(":", 1)[1]: v for k, v in found.items() if k.startswith(prefix)}

    bins = {k: v for k, v in found.items() if ":" not in k and k != "app-image"}
    return bins, part("module:"), part("image:"), found["app-image"]


def push_addons(crane: Path, archives: dict[str, Path], argocd_module: Path) -> dict[str, str]:
    """Push the add-ons' images to the run's registry; name → reference."""
    references = addon_images.references(registry.ADDRESS, addon_images.addons(argocd_module))
    for name, archive in archives.items():
        registry.push(crane, archive, references[name])
    return references


def install_addons(
    kube: Kube, modules: dict[str, Path], refs: dict[str, str], base: Path, node_mounts: bool
) -> dict[str, str]:
    """kube-network-policies, CoreDNS, names for git and AWS, Argo CD (core-install)
    and ESO (its chart), their images pulled side by side; returns once all are
    ready (ESO's store needs DNS). The outside names, by service. ``node_mounts``:
    whether the node's ``/`` propagates mounts (see :func:`netpol.manifest`)."""
    module, image = modules["kube-network-policies"], refs["kube-network-policies"]
    netpol.install(kube, module, image, propagation=node_mounts)
    coredns.install(kube, refs["coredns"])
    argocd.install(kube, argocd.with_images(argocd.core_install(modules["argocd"]), refs))
    names = coredns.outside_names(
        kube,
        {"git": (netns.NODE_IP, services.GIT_PORT), "aws": (netns.NODE_IP, services.MOTO_PORT)},
    )
    crds = modules["prometheus-operator"] / "example" / "prometheus-operator-crd"
    for name in ("servicemonitors", "prometheusrules"):
        kube.kubectl(
            "apply", "--server-side", "-f", str(crds / f"monitoring.coreos.com_{name}.yaml")
        )
    chart = eso.chart(modules["eso"], base / "charts")
    aws_by_name = f"http://{names['aws']}:{services.MOTO_PORT}"
    eso.install(kube, [str(chart)], eso.values(refs["external-secrets"], aws_by_name))
    netpol.wait_ready(kube)
    coredns.wait_ready(kube)
    argocd.wait_ready(kube)
    return names


@contextmanager
def running(ns: netns.Netns, base: Path, timings: Timings) -> Iterator[deploy.Cluster]:
    """Bring the whole cluster up under ``base``; yield its parts; always tear it down."""
    bins, modules, addons, app_archive = prepared(base)
    addons = {name: path for name, path in addons.items() if ":" not in name}
    sup = Supervisor(base / "logs")
    socket = str(node.containerd_socket(base))
    sampler = memory.PeakSampler(lambda: [p.pid for _, p in sup.started] + memory.shims(socket))
    sampler.start()
    kube: Kube | None = None
    pool = ThreadPoolExecutor(max_workers=1)  # the image pushes, beside the start-up
    try:
        started = time.monotonic()
        keys = pki.create(base / "pki", netns.NODE_IP)
        kube = Kube(keys.kubeconfig)
        database = services.start_postgres(
            sup, ns.database_host, base, keys.server_cert, keys.server_key
        )
        aws = services.start_moto(sup)
        registry.start(sup, bins["crane"], base)
        pushing = pool.submit(push_addons, bins["crane"], addons, modules["argocd"])
        controlplane.start(sup, bins, keys, base)
        timings.mark("control plane ready", started)
        node.start_containerd(sup, base)
        digest = images.import_all(base, bins["pause"], app_archive)
        node.start_kubelet(sup, bins["kubelet"], keys, base)
        node.start_kube_proxy(sup, bins["kube-proxy"], keys)
        _wait_node_ready(kube, sup)
        timings.mark("node Ready", started)
        password = deploy.seed_aws(aws)
        deploy.create_database(database, password)
        refs = pushing.result()
        # The node shares the machine's mounts.
        shared = netpol.root_is_shared(Path("/proc/self/mountinfo").read_text())
        names = install_addons(kube, modules, refs, base, node_mounts=shared)
        eso.store(kube)
        timings.mark("CoreDNS, ESO and Argo CD ready in the cluster", started)
        url = f"git://{names['git']}:{services.GIT_PORT}/{gitrepo.NAME}"
        # The tests and Prometheus reach pods from the node: from its address, or
        # from the pod links' gateway (the address ptp gives the node's side).
        sources = [f"{netns.NODE_IP}/32", f"{netns.POD_GATEWAY}/32"]
        delivery = gitrepo.dev_delivery(images.APP_TAG, digest, netns.DB_IP, aws, sources)
        repo = gitrepo.create(base / "git", url, delivery)
        services.start_git_daemon(sup, repo.bare.parent)
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
            addon_images=refs,
        )
    finally:
        pool.shutdown(wait=True)
        timings.peak_memory_mib = sampler.stop()
        if kube is not None:
            _stop_pods(kube, base, sup)
        sup.stop_all()
        _kill_leftover_containers(base)
        unmount_under(base)
        # The components' logs outlive the cluster, for whoever reads a failure.
        shutil.rmtree(LOGS, ignore_errors=True)
        if (base / "logs").exists():
            shutil.copytree(base / "logs", LOGS, dirs_exist_ok=True)
