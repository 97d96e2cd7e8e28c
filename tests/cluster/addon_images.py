"""The add-ons' images: Argo CD, its redis, External Secrets and CoreDNS.

Each is built here from the binaries :mod:`scripts.cluster.build` makes (the
same Go modules and versions as upstream's images) on the project's Debian
base image, with a Containerfile under ``scripts/cluster/containerfiles``, and
kept in the tool cache as an OCI layout with gzip-compressed layers, keyed by
version and Containerfile: a second run builds nothing, and a push to the
run's registry only copies blobs (nothing is compressed again). The node pulls
them from that registry (:mod:`tests.cluster.registry`), as a cluster on EKS
pulls from one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from scripts.cluster import build
from scripts.cluster.gobuild import CACHE
from tests.image.engine import Engine, build_base, engine
from tests.tools import REPO

CONTAINERFILES = REPO / "scripts" / "cluster" / "containerfiles"
LAYOUTS = CACHE / "cluster-images"
# Where Docker builds them (no local base image): the Debian release of ours.
DOCKER_BASE = "docker.io/library/debian:bookworm-slim"


@dataclass(frozen=True)
class AddonImage:
    """One image: its Containerfile's stem, its name in the registry, its build context."""

    name: str
    repository: str  # below the registry, e.g. "argoproj/argocd"
    tag: str
    context: dict[str, Path]  # file name in the build context → where it comes from

    @property
    def containerfile(self) -> Path:
        return CONTAINERFILES / f"{self.name}.Containerfile"

    def layout(self) -> Path:
        """The cached OCI layout: the version and the Containerfile's hash in its name."""
        digest = hashlib.sha256(self.containerfile.read_bytes()).hexdigest()[:12]
        return LAYOUTS / f"{self.name}-{self.tag}-{digest}"


def addons(argocd_module: Path) -> list[AddonImage]:
    """The four images, from the cached (or freshly built) binaries."""
    hack = argocd_module / "hack"
    return [
        AddonImage(
            "argocd",
            "argoproj/argocd",
            build.ARGOCD,
            {
                "argocd": build.argocd() / "argocd",
                "helm": build.argocd_helm() / "helm",
                "gpg-wrapper.sh": hack / "gpg-wrapper.sh",
                "git-verify-wrapper.sh": hack / "git-verify-wrapper.sh",
                "entrypoint.sh": argocd_module / "entrypoint.sh",
            },
        ),
        AddonImage("redis", "library/redis", "bookworm", {}),
        AddonImage(
            "external-secrets",
            "external-secrets/external-secrets",
            build.ESO,
            {"external-secrets": build.external_secrets() / "external-secrets"},
        ),
        AddonImage(
            "coredns", "coredns/coredns", build.COREDNS, {"coredns": build.coredns() / "coredns"}
        ),
    ]


def _build(builder: Engine, base: str, image: AddonImage, layout: Path) -> None:
    tag = f"localhost/{image.repository}:{image.tag}"
    with tempfile.TemporaryDirectory(prefix="ww-addon-") as folder:
        context = Path(folder)
        for name, source in image.context.items():
            shutil.copy2(source, context / name)
            (context / name).chmod(0o755)
        shutil.copy(image.containerfile, context / "Containerfile")
        builder.run("build", "--network", "host", "--build-arg", f"BASE_IMAGE={base}",
                    "--file", str(context / "Containerfile"), "--tag", tag, str(context),
                    timeout=900)  # fmt: skip
    partial = layout.with_name(layout.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    if builder.name == "podman":
        builder.run("push", "--compression-format", "gzip", tag, f"oci:{partial}", timeout=600)
    else:  # Docker saves no layout: an archive, which crane compresses at each push
        partial.mkdir()
        builder.run("save", "-o", str(partial / "image.tar"), tag, timeout=600)
    if builder.as_root:  # written by root through sudo: the harness reads it as the user
        subprocess.run([*builder.as_root, "chown", "-R", f"{os.getuid()}:{os.getgid()}",
                        str(partial)], check=True)  # fmt: skip
    partial.rename(layout)


def build_all(argocd_module: Path) -> dict[str, Path]:
    """Build the images not yet cached; name → what :func:`tests.cluster.registry.push` takes."""
    images = addons(argocd_module)
    missing = [image for image in images if not image.layout().exists()]
    if missing:
        builder = engine()
        base = build_base(builder) or DOCKER_BASE
        LAYOUTS.mkdir(parents=True, exist_ok=True)
        for image in missing:
            _build(builder, base, image, image.layout())
    return {image.name: _pushable(image.layout()) for image in images}


def _pushable(layout: Path) -> Path:
    archive = layout / "image.tar"
    return archive if archive.exists() else layout


def references(registry: str, argocd_module: Path) -> dict[str, str]:
    """name → the image reference the node pulls, in ``registry``."""
    return {i.name: f"{registry}/{i.repository}:{i.tag}" for i in addons(argocd_module)}
