"""The repository Argo CD follows: a clone of this checkout served by git daemon.

Three commits make it: the checkout under test as it is (tracked files and new
ones not ignored, so uncommitted work is tested too), Argo CD pointed at the
served URL (the only change to ``argocd/``), and the delivery of the test image
to dev together with what this machine's "AWS account" differs in (see
:func:`deliver`). Tests push further commits with :meth:`ServedRepo.push`.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from scripts.bump_image import set_image
from tests.tools import REPO

UPSTREAM_URL = "https://github.com/example-org/weather-warehouse.git"
NAME = "weather-warehouse.git"
DEV_VALUES = Path("k8s/envs/dev/values.yaml")
SA_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"
AUTHOR = ["-c", "user.name=cluster test", "-c", "user.email=cluster-test@example.com"]


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *AUTHOR, *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


@dataclass(frozen=True)
class ServedRepo:
    work: Path  # a working clone the tests commit in
    bare: Path  # what git daemon serves
    url: str  # the repoURL Argo CD uses

    def push(self, change: Callable[[Path], None], message: str) -> str:
        """Apply ``change`` to the working clone, commit, push; the new commit id."""
        change(self.work)
        git(self.work, "commit", "-qam", message)
        git(self.work, "push", "-q", "origin", "HEAD:main")
        return git(self.work, "rev-parse", "HEAD")

    def head(self) -> str:
        return git(self.work, "rev-parse", "HEAD")


def _copy_checkout(target: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        check=True,
        capture_output=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if not source.is_file():
            continue  # deleted in the checkout but not yet in git
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / name)


def edit_yaml(path: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    """Load, change and write back a YAML file (comments are not kept)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def create(base: Path, url: str, deliver: Callable[[Path], None]) -> ServedRepo:
    """Make the served bare repository under ``base`` and a working clone of it."""
    work = base / "work"
    work.mkdir(parents=True)
    git(work, "init", "-q", "-b", "main")
    _copy_checkout(work)
    git(work, "add", "-A")
    git(work, "commit", "-qm", "The checkout under test")
    for name in ("applicationset.yaml", "project.yaml"):
        path = work / "argocd" / name
        path.write_text(path.read_text(encoding="utf-8").replace(UPSTREAM_URL, url))
    git(work, "commit", "-qam", "Argo CD follows the repository served on this machine")
    deliver(work)
    git(work, "commit", "-qam", "Deliver the test image to dev; this machine's addresses")
    bare = base / "served" / NAME
    bare.parent.mkdir(parents=True)
    git(base, "clone", "-q", "--bare", str(work), str(bare))
    git(work, "remote", "add", "origin", str(bare))
    git(work, "fetch", "-q", "origin")
    return ServedRepo(work, bare, url)


def _machine_values(data: dict[str, Any], db_host: str, aws_endpoint: str) -> None:
    """Where "RDS" and "AWS" are on this machine (an IP: pods here resolve no names)."""
    database = data["database"]
    database["host"] = db_host
    database["cidrs"] = [f"{db_host}/32"]
    # IRSA stays on. On EKS the pod identity webhook injects the role and the
    # token file; here the same variables point boto3 at the pod's
    # ServiceAccount token, which it exchanges at moto's STS.
    data["ingest"]["extraEnv"] = [
        {"name": "AWS_ENDPOINT_URL", "value": aws_endpoint},
        {"name": "AWS_ROLE_ARN", "value": data["serviceAccount"]["roleArn"]},
        {"name": "AWS_WEB_IDENTITY_TOKEN_FILE", "value": SA_TOKEN},
        {"name": "AWS_REGION", "value": "us-east-1"},
        {"name": "AWS_DEFAULT_REGION", "value": "us-east-1"},
    ]


def dev_delivery(
    tag: str, digest: str, db_host: str, aws_endpoint: str, lb_cidrs: list[str]
) -> Callable[[Path], None]:
    """Dev's values for the test cluster: the image pinned as the delivery workflow
    pins it (scripts/bump_image.py), this machine's addresses, and as the load
    balancer's CIDRs where the tests and Prometheus come to the API from (they
    stand in for the ALB, whose subnets dev's values name)."""

    def edit(data: dict[str, Any]) -> None:
        _machine_values(data, db_host, aws_endpoint)
        data["networkPolicy"]["loadBalancerCIDRs"] = lb_cidrs

    def deliver(work: Path) -> None:
        values = work / DEV_VALUES
        set_image(values, tag, digest)
        edit_yaml(values, edit)

    return deliver
