"""The add-ons' images: Argo CD, its redis, External Secrets, CoreDNS and
kube-network-policies.

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
    """One image: its name, its name in the registry, its build context."""

    name: str
    repository: str  # below the registry, e.g. "argoproj/argocd"
    tag: str
    # name in the build context → the file or folder it is copied from, or its text
    context: dict[str, Path | str]
    recipe: str = ""  # the Containerfile's stem, when it is not the name
    args: tuple[tuple[str, str], ...] = ()  # build arguments besides BASE_IMAGE
    key: str = ""  # what else the image depends on, such as a patched build's folder

    @property
    def containerfile(self) -> Path:
        return CONTAINERFILES / f"{self.recipe or self.name}.Containerfile"

    def layout(self) -> Path:
        """The cached OCI layout: the version, the Containerfile's, arguments' and key's hash."""
        recipe = self.containerfile.read_bytes() + repr(self.args).encode()
        recipe += repr(sorted(v for v in self.context.values() if isinstance(v, str))).encode()
        recipe += self.key.encode()
        digest = hashlib.sha256(recipe).hexdigest()[:12]
        return LAYOUTS / f"{self.name}-{self.tag}-{digest}"


def addons(argocd_module: Path) -> list[AddonImage]:
    """The five images, from the cached (or freshly built) binaries."""
    hack = argocd_module / "hack"
    netpol = build.kube_network_policies()
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
        AddonImage(
            "kube-network-policies",
            "networking/kube-network-policies",
            build.KUBE_NETWORK_POLICIES,
            {"netpol": netpol / "netpol"},
            key=netpol.parent.name,  # carries the patch's hash
        ),
    ]


def _place(source: Path | str, target: Path) -> None:
    """Copy a file (made executable) or a folder into the context, or write a text."""
    if isinstance(source, str):
        target.write_text(source)
    elif source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copy2(source, target)
        target.chmod(0o755)


def _build(builder: Engine, base: str, image: AddonImage, layout: Path) -> None:
    tag = f"localhost/{image.repository}:{image.tag}"
    with tempfile.TemporaryDirectory(prefix="ww-addon-") as folder:
        context = Path(folder)
        for name, source in image.context.items():
            _place(source, context / name)
        shutil.copy(image.containerfile, context / "Containerfile")
        args = [f"--build-arg={k}={v}" for k, v in (("BASE_IMAGE", base), *image.args)]
        builder.run("build", "--network", "host", *args,
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


def build_all(images: list[AddonImage]) -> dict[str, Path]:
    """Build the images not yet cached; name → what :func:`tests.cluster.registry.push` takes."""
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


def references(registry: str, images: list[AddonImage]) -> dict[str, str]:
    """name → the image reference the node pulls, in ``registry``."""
    return {i.name: f"{registry}/{i.repository}:{i.tag}" for i in images}
