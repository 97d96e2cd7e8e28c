"""The same cluster tests on kind (``make kind-test``), where Docker and kind exist.

Upstream releases of the same versions replace the local builds: Argo CD's
``core-install.yaml`` (v3.2.11) and the External Secrets Helm chart (0.16.2),
installed by the same functions as on the no-Docker path
(:func:`tests.cluster.argocd.install`, :func:`tests.cluster.eso.install`) with
upstream's images; kindnet enforces the NetworkPolicies. PostgreSQL (with TLS), moto
(on port 443) and the git daemon run as containers on kind's Docker network,
outside the cluster as on the no-Docker path; the test process reaches pod IPs
through a route to the pod CIDR via the node (root is needed for it, as for
the no-Docker path's namespace). Needs internet access for the images.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from scripts.cluster import build
from tests.cluster import argocd, audit, deploy, eso, gitrepo, images, pki
from tests.cluster.kube import Kube
from tests.cluster.processes import wait_for
from tests.cluster.timings import Timings
from tests.tools import REPO

NAME = "ww-gitops"
POD_CIDR = "10.244.0.0/16"
GITHUB = "https://raw.githubusercontent.com"
ARGOCD_INSTALL = f"{GITHUB}/argoproj/argo-cd/{build.ARGOCD}/manifests/core-install.yaml"
PROM_CRDS = (
    f"{GITHUB}/prometheus-operator/prometheus-operator/{build.PROMETHEUS_OPERATOR}"
    "/example/prometheus-operator-crd"
)
ESO_CHART = "https://charts.external-secrets.io"
# What the add-ons' pods run here: upstream's images of the pinned versions
# (kind's own CoreDNS, at the version kind v0.33 ships).
UPSTREAM_IMAGES = {
    "argocd": f"quay.io/argoproj/argocd:{build.ARGOCD}",
    "redis": "public.ecr.aws/docker/library/redis:8.2.2-alpine",
    "external-secrets": f"oci.external-secrets.io/external-secrets/external-secrets:{build.ESO}",
    "coredns": "registry.k8s.io/coredns/coredns:v1.12.1",
}
IMAGES = {
    "postgres": "postgres:16-bookworm",
    "moto": "motoserver/moto:5.1.4",
    "git": "alpine/git:2.47.2",
}


def _run(*argv: str, stdin: str | None = None) -> str:
    result = subprocess.run(list(argv), input=stdin, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {result.stderr.strip()[-2000:]}")
    return result.stdout.strip()


def _container(name: str, *argv: str) -> str:
    """Start a container on kind's network; its IP address."""
    _run("docker", "run", "-d", "--name", f"{NAME}-{name}", "--network", "kind", *argv)
    inspect = _run("docker", "inspect", f"{NAME}-{name}")
    return str(json.loads(inspect)[0]["NetworkSettings"]["Networks"]["kind"]["IPAddress"])


def _postgres(base: Path) -> tuple[str, str]:
    keys = pki.create(base / "pki", "127.0.0.1")
    password = secrets.token_urlsafe(16)
    ip = _container(
        "postgres",
        "-e",
        f"POSTGRES_PASSWORD={password}",
        "-v",
        f"{keys.folder}:/tls:ro",
        "--user",
        "0",
        IMAGES["postgres"],
        "sh",
        "-c",
        "cp /tls/apiserver.crt /tls/apiserver.key /tmp/ && chown postgres /tmp/apiserver.* && "
        "chmod 600 /tmp/apiserver.key && exec docker-entrypoint.sh postgres -c ssl=on "
        "-c ssl_cert_file=/tmp/apiserver.crt -c ssl_key_file=/tmp/apiserver.key",
    )
    url = f"postgresql://postgres:{password}@{ip}:5432/postgres"
    import psycopg

    wait_for(lambda: psycopg.connect(url, connect_timeout=2).close() or True, "PostgreSQL", 120)
    return ip, url


def _app_image(base: Path) -> str:
    """docker build, kind load; the reference the pods run."""
    name = f"{images.APP_REPOSITORY}:{images.APP_TAG}"
    _run("docker", "build", "-t", name, str(REPO))
    _run("kind", "load", "docker-image", "--name", NAME, name)
    return name


def _install_eso(kube: Kube, aws: str) -> None:
    chart = ["external-secrets", "--repo", ESO_CHART, "--version", build.ESO.lstrip("v")]
    eso.install(kube, chart, eso.values(None, aws))


def _install_argocd(kube: Kube) -> None:
    with urllib.request.urlopen(ARGOCD_INSTALL, timeout=60) as response:
        objects = [d for d in yaml.safe_load_all(response.read()) if d]
    argocd.install(kube, objects)
    argocd.wait_ready(kube)


AUDIT_IN_NODE = "/var/log/kubernetes/audit"
POLICY_IN_NODE = "/etc/kubernetes/audit-policy"


def _cluster_config(base: Path) -> Path:
    """kind's cluster config: the API server writes the same audit log as on the
    no-Docker path, into a folder of ``base`` mounted into the node."""
    audit.write_policy(base / "audit-policy", deploy.NAMESPACE)
    (base / "audit").mkdir(exist_ok=True)
    patch = {
        "kind": "ClusterConfiguration",
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
    config = {
        "kind": "Cluster",
        "apiVersion": "kind.x-k8s.io/v1alpha4",
        "nodes": [
            {
                "role": "control-plane",
                "kubeadmConfigPatches": [yaml.safe_dump(patch)],
                "extraMounts": [
                    {"hostPath": str(base / "audit-policy"), "containerPath": POLICY_IN_NODE,
                     "readOnly": True},
                    {"hostPath": str(base / "audit"), "containerPath": AUDIT_IN_NODE},
                ],
            }
        ],
    }  # fmt: skip
    path = base / "kind.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@contextmanager
def running(timings: Timings) -> Iterator[deploy.Cluster]:
    for tool in ("docker", "kind", "helm"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is needed for WW_CLUSTER=kind")
    base = Path(tempfile.mkdtemp(prefix="wwk-"))
    kubeconfig = base / "kubeconfig"
    started = time.monotonic()
    route = False
    try:
        _run(
            "kind",
            "create",
            "cluster",
            "--name",
            NAME,
            "--kubeconfig",
            str(kubeconfig),
            "--config",
            str(_cluster_config(base)),
            "--wait",
            "120s",
        )
        kube = Kube(kubeconfig)
        node_ip = json.loads(_run("docker", "inspect", f"{NAME}-control-plane"))[0][
            "NetworkSettings"
        ]["Networks"]["kind"]["IPAddress"]
        _run("ip", "route", "replace", POD_CIDR, "via", node_ip)
        route = True
        timings.mark("control plane ready", started)
        db_ip, admin_url = _postgres(base)
        aws = f"http://{_container('moto', '-e', 'MOTO_PORT=443', IMAGES['moto'])}:443"
        for name in ("servicemonitors", "prometheusrules"):
            kube.kubectl(
                "apply", "--server-side", "-f", f"{PROM_CRDS}/monitoring.coreos.com_{name}.yaml"
            )
        _install_eso(kube, aws)
        _install_argocd(kube)
        reference = _app_image(base)
        password = deploy.seed_aws(aws)
        deploy.create_database(admin_url, password)
        eso.store(kube)
        served = base / "git" / "served"
        served.mkdir(parents=True)
        git_ip = _container(
            "git",
            "-v",
            f"{served}:/srv/git:ro",
            "--entrypoint",
            "git",
            IMAGES["git"],
            "daemon",
            "--base-path=/srv/git",
            "--export-all",
            "--reuseaddr",
            "/srv/git",
        )
        subnet = json.loads(_run("docker", "network", "inspect", "kind"))[0]["IPAM"]["Config"][0][
            "Subnet"
        ]
        delivery = gitrepo.kind_delivery(images.APP_TAG, db_ip, aws, subnet)
        repo = gitrepo.create(base / "git", f"git://{git_ip}/{gitrepo.NAME}", delivery)
        deploy.apply_argocd_objects(kube, repo.work)
        kube.kubectl("create", "serviceaccount", "prometheus", "-n", "default")
        kube.kubectl(
            "create",
            "clusterrolebinding",
            "prometheus-view",
            "--clusterrole=view",
            "--serviceaccount=default:prometheus",
        )
        token = kube.kubectl("create", "token", "prometheus", "-n", "default").strip()
        config = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]
        ca = base / "ca.crt"
        import base64

        ca.write_bytes(base64.b64decode(config["certificate-authority-data"]))
        timings.mark("cluster up, argocd/ applied", started)
        del reference
        yield deploy.Cluster(
            kube,
            repo,
            admin_url,
            db_ip,
            aws,
            password,
            timings,
            started,
            api_server=config["server"],
            ca_file=ca,
            token=token,
            scratch=base / "scratch",
            audit_log=base / "audit" / "audit.log",
            addon_images=UPSTREAM_IMAGES,
        )
    finally:
        if route:
            subprocess.run(["ip", "route", "del", POD_CIDR], check=False)
        for name in ("postgres", "moto", "git"):
            subprocess.run(
                ["docker", "rm", "-f", f"{NAME}-{name}"], check=False, capture_output=True
            )
        subprocess.run(["kind", "delete", "cluster", "--name", NAME], check=False)
        shutil.rmtree(base, ignore_errors=True)
