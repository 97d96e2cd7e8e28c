"""The images the node runs, imported into containerd from archives (no registry)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.cluster import node
from tests.image.engine import build_base, build_image, engine

# Dev's values name the image by its ECR repository; the delivered tag and the
# digest containerd computes on import complete the reference.
APP_REPOSITORY = "123456789012.dkr.ecr.us-east-1.amazonaws.com/weather-warehouse"
APP_TAG = "cluster-test"


def app_archive(base: Path) -> Path:
    """Build the project's image the way tests/image does; save it as an archive."""
    builder = engine()
    image = build_image(builder, build_base(builder))
    name = f"{APP_REPOSITORY}:{APP_TAG}"
    builder.run("tag", image, name)
    archive = base / "app-image.tar"
    builder.run("save", "--format", "docker-archive", "-o", str(archive), name, timeout=600)
    if builder.as_root:  # saved by root through sudo: the node's ctr runs as the test user
        subprocess.run([*builder.as_root, "chown", f"{os.getuid()}:{os.getgid()}", str(archive)],
                       check=True)  # fmt: skip
    return archive


def import_all(base: Path, pause: Path, app: Path) -> str:
    """Import both images into the no-Docker node; the app image's manifest digest."""
    node.ctr(base, "images", "import", str(pause))
    return import_app(lambda *args: node.ctr(base, *args), str(app))


def import_app(ctr: Callable[..., str], archive: str) -> str:
    """Import the app's image with ``ctr`` (namespace k8s.io); its manifest digest."""
    ctr("images", "import", archive)
    name = f"{APP_REPOSITORY}:{APP_TAG}"
    digest = node.image_digest(ctr("images", "ls"), name)
    # The pods name it by digest (dev's values pin one), as a registry pull would
    # have recorded it; ctr's own --digests option names it import-<date>@... instead.
    ctr("images", "tag", name, f"{APP_REPOSITORY}@{digest}")
    return digest
