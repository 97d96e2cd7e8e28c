"""The same cluster tests on a kind cluster (``make kind-test``), on this machine.

The launcher (:mod:`tests.cluster.launch`) makes the same network namespace as
for the no-Docker cluster and starts the tests in it. Here, inside it:

- ``dockerd`` (Debian's) runs with its own data and exec roots under the run's
  folder, its bridges and iptables rules in this namespace only, and a runc
  wrapper as its default runtime (``scripts/kind/runc-without-sys-resource``:
  this machine cannot grant CAP_SYS_RESOURCE to a privileged container);
- the run's registry serves the node image, the images kubeadm runs (pulled as
  ``registry.k8s.io/...`` through a mirror entry) and the add-ons' images,
  all built here (:mod:`tests.cluster.kindnode`);
- ``kind create cluster`` makes one node on a Docker network of a fixed
  subnet; kube-proxy is kubeadm's DaemonSet;
- PostgreSQL (on the database host), moto, the git daemon, kube-network-policies,
  CoreDNS, External Secrets and Argo CD are the no-Docker path's own, installed the same way
  (:func:`tests.cluster.nodocker.install_addons`): the tests cannot tell the
  two clusters apart.

Only how the node is made and how the app's image reaches it differ.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import yaml

from scripts.cluster import build
from scripts.root import as_root, run_as_root
from tests.cluster import (
    deploy,
    eso,
    gitrepo,
    images,
    kindnode,
    memory,
    netns,
    nodocker,
    pki,
    registry,
    services,
)
from tests.cluster.kube import Kube
from tests.cluster.processes import Supervisor, wait_for
from tests.cluster.timings import Timings
from tests.tools import REPO

NAME = "ww-gitops"
NETWORK = "kind"  # kind uses a Docker network of this name when it exists
NETWORK_CIDR = "172.30.0.0/24"
NETWORK_GATEWAY = "172.30.0.1"
RUNC_WRAPPER = REPO / "scripts" / "kind" / "runc-without-sys-resource"
# Debian's docker client (the daemon's version), whatever else the PATH holds.
SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


def _dockerd() -> str:
    found = shutil.which("dockerd", path=SYSTEM_PATH)
    if found is None:
        raise RuntimeError("dockerd is needed for WW_CLUSTER=kind: make tools installs docker.io")
    return found


class Docker:
    """The run's own dockerd: its socket, and docker and kind run as root against it."""

    def __init__(self, base: Path) -> None:
        self.root = base / "docker"
        self.socket = self.root / "docker.sock"

    @property
    def env(self) -> dict[str, str]:
        return {"DOCKER_HOST": f"unix://{self.socket}", "PATH": SYSTEM_PATH}

    def run(self, *argv: str, timeout: float = 600) -> str:
        """``argv`` as root with DOCKER_HOST set; its standard output."""
        result = subprocess.run(as_root(argv, self.env), capture_output=True, text=True,
                                timeout=timeout, check=False)  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)}: {result.stderr.strip()[-3000:]}")
        return result.stdout

    def start(self, sup: Supervisor) -> None:
        """dockerd in this namespace, pulling from the run's registry over plain HTTP."""
        self.root.mkdir()
        sup.start("dockerd", [
            _dockerd(), "--data-root", str(self.root / "data"),
            "--exec-root", str(self.root / "exec"), "--pidfile", str(self.root / "dockerd.pid"),
            "-H", f"unix://{self.socket}", "--insecure-registry", registry.ADDRESS,
            "--add-runtime", f"ww-runc={RUNC_WRAPPER}", "--default-runtime", "ww-runc",
            "--storage-driver", "overlay2", "--exec-opt", "native.cgroupdriver=cgroupfs",
        ], env={"PATH": SYSTEM_PATH}, root=True)  # fmt: skip
        wait_for(self._answers, "dockerd", timeout=60, supervisor=sup)

    def _answers(self) -> bool:
        try:
            self.run("docker", "version", timeout=10)
        except (RuntimeError, subprocess.TimeoutExpired):
            return False
        return True

    def node_ip(self, container: str) -> str:
        inspect = json.loads(self.run("docker", "inspect", container))
        return str(inspect[0]["NetworkSettings"]["Networks"][NETWORK]["IPAddress"])


def _push_all(crane: Path, archives: dict[str, Path], refs: dict[str, str]) -> None:
    for name, archive in archives.items():
        registry.push(crane, archive, refs[name])


def _create(docker: Docker, base: Path, node_image: str) -> Kube:
    """kind create cluster; the kubeconfig (readable by the tests) as a Kube."""
    docker.run("docker", "pull", node_image)
    config = kindnode.config(base, registry.ADDRESS, deploy.NAMESPACE)
    kubeconfig = base / "kubeconfig"
    kind = build.kind() / "kind"
    docker.run(str(kind), "create", "cluster", "--name", NAME, "--image", node_image,
               "--config", str(config), "--kubeconfig", str(kubeconfig), "--wait", "180s",
               timeout=600)  # fmt: skip
    run_as_root("chown", f"{os.getuid()}:{os.getgid()}", str(kubeconfig))
    return Kube(kubeconfig)


def _import_app(docker: Docker, base: Path, archive: Path) -> str:
    """The app's image into the node's containerd, named by digest; the digest."""
    shutil.copy(archive, base / "share" / "app-image.tar")

    def ctr(*args: str) -> str:
        return docker.run("docker", "exec", kindnode.NODE_NAME, "ctr", "-n", "k8s.io", *args)

    return images.import_app(ctr, "/ww/app-image.tar")


def _api_server(kube: Kube, node_ip: str, base: Path) -> tuple[str, Path, str]:
    """The API server at the node's address, its CA file and a token for Prometheus."""
    config = yaml.safe_load(kube.kubeconfig.read_text())["clusters"][0]["cluster"]
    ca = base / "ca.crt"
    ca.write_bytes(base64.b64decode(config["certificate-authority-data"]))
    kube.kubectl("create", "serviceaccount", "prometheus", "-n", "default")
    kube.kubectl("create", "clusterrolebinding", "prometheus-view", "--clusterrole=view",
                 "--serviceaccount=default:prometheus")  # fmt: skip
    token = kube.kubectl("create", "token", "prometheus", "-n", "default",
                         "--duration=2h").strip()  # fmt: skip
    return f"https://{node_ip}:6443", ca, token


@contextmanager
def running(ns: netns.Netns, base: Path, timings: Timings) -> Iterator[deploy.Cluster]:
    """Bring a kind cluster and its surroundings up under ``base``; always tear down."""
    bins, modules, addons, app_archive = nodocker.prepared(base)
    sup = Supervisor(base / "logs")
    docker = Docker(base)
    # The node is a container: its processes descend from dockerd's shims.
    shims = str(docker.root / "exec" / "containerd" / "containerd.sock")
    sampler = memory.PeakSampler(lambda: [p.pid for _, p in sup.started] + memory.shims(shims))
    sampler.start()
    pool = ThreadPoolExecutor(max_workers=1)
    created = False
    try:
        started = time.monotonic()
        keys = pki.create(base / "pki", netns.NODE_IP)
        database = services.start_postgres(
            sup, ns.database_host, base, keys.server_cert, keys.server_key
        )
        aws = services.start_moto(sup)
        registry.start(sup, bins["crane"], base)
        node_images = kindnode.images()
        refs = {i.name: f"{registry.ADDRESS}/{i.repository}:{i.tag}" for i in node_images}
        kind_archives = {k.split(":", 1)[1]: v for k, v in addons.items() if k.startswith("kind:")}
        _push_all(bins["crane"], {"kind-node": kind_archives.pop("kind-node")}, refs)
        pushing = pool.submit(_push_all, bins["crane"], kind_archives, refs)
        addon_refs = pool.submit(
            nodocker.push_addons, bins["crane"],
            {k: v for k, v in addons.items() if ":" not in k}, modules["argocd"],
        )  # fmt: skip
        docker.start(sup)
        docker.run("docker", "network", "create", "--driver", "bridge", "--subnet", NETWORK_CIDR,
                   "--gateway", NETWORK_GATEWAY, NETWORK)  # fmt: skip
        pushing.result()
        (base / "share").mkdir()
        created = True
        kube = _create(docker, base, refs["kind-node"])
        node_ip = docker.node_ip(kindnode.NODE_NAME)
        # The tests reach pods and Services as on the no-Docker path: routed,
        # here via the node (kube-proxy's rules are in the node's namespace).
        for cidr in (netns.POD_CIDR, netns.SERVICE_CIDR):
            ns.run("ip", "route", "replace", cidr, "via", node_ip)
        run_as_root("chmod", "a+r", str(base / "audit" / "audit.log"))
        timings.mark("node Ready", started)
        digest = _import_app(docker, base, app_archive)
        password = deploy.seed_aws(aws)
        deploy.create_database(database, password)
        refs_addons = addon_refs.result()
        # kubeadm's CoreDNS gives way to the no-Docker path's (kubeadm's v1beta3
        # config cannot leave it out): one DNS set-up, whichever the cluster.
        kube.kubectl("delete", "-n", "kube-system", "deployment/coredns", "configmap/coredns",
                     "service/kube-dns")  # fmt: skip
        # kind's entrypoint makes the node's / a shared mount.
        names = nodocker.install_addons(kube, modules, refs_addons, base, node_mounts=True)
        eso.store(kube)
        timings.mark("CoreDNS, ESO and Argo CD ready in the cluster", started)
        url = f"git://{names['git']}:{services.GIT_PORT}/{gitrepo.NAME}"
        # The tests reach the API from the Docker network's gateway.
        delivery = gitrepo.dev_delivery(images.APP_TAG, digest, netns.DB_IP, aws, [NETWORK_CIDR])
        repo = gitrepo.create(base / "git", url, delivery)
        services.start_git_daemon(sup, repo.bare.parent)
        deploy.apply_argocd_objects(kube, repo.work)
        api_server, ca, token = _api_server(kube, node_ip, base)
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
            api_server=api_server,
            ca_file=ca,
            token=token,
            scratch=base / "scratch",
            audit_log=base / "audit" / "audit.log",
            addon_images=refs_addons,
        )
    finally:
        pool.shutdown(wait=True)
        timings.peak_memory_mib = sampler.stop()
        if created:
            kind = [str(build.kind() / "kind"), "delete", "cluster", "--name", NAME]
            subprocess.run(as_root(kind, docker.env), capture_output=True, check=False)
        sup.stop_all()
        nodocker.unmount_under(base)
        shutil.rmtree(nodocker.LOGS, ignore_errors=True)
        if (base / "logs").exists():
            shutil.copytree(base / "logs", nodocker.LOGS, dirs_exist_ok=True)
