"""Copy the /explore page's JavaScript libraries and basemaps from npm into the package.

The page loads nothing from a CDN: its libraries live, committed, under
``service/explore/static/vendor/``. Each npm package is pinned below by
version, by the sha512 ``integrity`` the registry publishes for its tarball,
and by its licence; this script fetches the tarball with ``npm pack`` (npm's
own client, through the machine's proxy), refuses one whose sha512 or
``package.json`` licence differs from the pin, and copies the chosen files
(with the package's licence text) into the vendor folder. ``MANIFEST.json``
there records each file's SHA-256.

    python -m scripts.vendor_explore          # fetch, verify, copy, write MANIFEST.json
    python -m scripts.vendor_explore --check  # offline: the committed files match the pins

To update a library: change its version and integrity below (``npm view
PACKAGE@VERSION dist.integrity``), run the script, look at the page, commit.
``tests/explore/test_vendored.py`` runs ``--check``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENDOR = REPO / "service" / "explore" / "static" / "vendor"
MANIFEST = VENDOR / "MANIFEST.json"
# Permissive licences only: the page ships inside the image.
ALLOWED_LICENCES = {"MIT", "ISC", "BSD-3-Clause"}


@dataclass(frozen=True)
class Package:
    """One npm package at a pinned version, and the files of it the page uses."""

    name: str
    version: str
    integrity: str
    licence: str
    files: tuple[str, ...]  # paths inside the tarball's package/ folder

    @property
    def folder(self) -> Path:
        return VENDOR / self.name


PACKAGES = (
    Package("uplot", "1.6.32",
            "sha512-KIMVnG68zvu5XXUbC4LQEPnhwOxBuLyW1AHtpm6IKTXImkbLgkMy+jabjLgSLMasNuGGzQm/ep3tOkyTxpiQIw==",
            "MIT", ("dist/uPlot.iife.min.js", "dist/uPlot.min.css", "LICENSE")),
    Package("d3-array", "3.2.4",
            "sha512-tdQAmyA18i4J7wprpYq8ClcxZy3SC31QMeByyCFyRt7BVHdREQZ5lpzoe5mFEYZUWe+oq8HBvk9JjpibyEV4Jg==",
            "ISC", ("dist/d3-array.min.js", "LICENSE")),
    Package("d3-geo", "3.1.1",
            "sha512-637ln3gXKXOwhalDzinUgY83KzNWZRKbYubaG+fGVuc/dxO64RRljtCTnf5ecMyE1RIdtqpkVcq0IbtU2S8j2Q==",
            "ISC", ("dist/d3-geo.min.js", "LICENSE")),
    Package("topojson-client", "3.1.0",
            "sha512-605uxS6bcYxGXw9qi62XyrV6Q3xwbndjachmNxu8HWTtVPxZfEJN9fd/SZS1Q54Sn2y0TMyMxFj/cJINqGHrKw==",
            "ISC", ("dist/topojson-client.min.js", "LICENSE")),
    # Census Bureau cartographic boundaries (public domain), as TopoJSON.
    Package("us-atlas", "3.0.1",
            "sha512-wEIZCq0ImPvGblTd8gZMqNNCPkQshugMUG/8nkSWXb02+XqNFREg9atHOKP9w6prLZTpqcLhSvdBW81MkV3/0Q==",
            "ISC", ("states-10m.json", "LICENSE")),
    # Natural Earth (public domain), as TopoJSON.
    Package("world-atlas", "2.0.2",
            "sha512-IXfV0qwlKXpckz1FhwXVwKRjiIhOnWttOskm5CtxMsjgE/MXAYRHWJqgXOpM8IkcPBoXnyTU5lFHcYa5ChG0LQ==",
            "ISC", ("countries-110m.json", "LICENSE")),
)  # fmt: skip


def sri(data: bytes) -> str:
    """The Subresource Integrity string (sha512) of ``data``, as npm's ``integrity``."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def sha256(data: bytes) -> str:
    """The hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def fetch(package: Package, scratch: Path) -> bytes:
    """The package's tarball from the registry, through ``npm pack``."""
    spec = f"{package.name}@{package.version}"
    subprocess.run(
        ["npm", "pack", spec, "--pack-destination", str(scratch), "--silent"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    (tarball,) = scratch.glob(f"{package.name}-{package.version}.tgz")
    return tarball.read_bytes()


def unpack(package: Package, tarball: bytes) -> dict[str, bytes]:
    """The chosen files of a verified tarball; raises if the pins do not hold."""
    if sri(tarball) != package.integrity:
        raise SystemExit(f"{package.name}@{package.version}: sha512 differs from the pin")
    with tarfile.open(fileobj=io.BytesIO(tarball)) as tar:
        meta = json.loads(_member(tar, "package.json"))
        if meta.get("license") != package.licence or package.licence not in ALLOWED_LICENCES:
            raise SystemExit(f"{package.name}: licence {meta.get('license')!r} is not the pin")
        return {name: _member(tar, name) for name in package.files}


def _member(tar: tarfile.TarFile, name: str) -> bytes:
    member = tar.extractfile(f"package/{name}")
    if member is None:
        raise SystemExit(f"package/{name} is not a file")
    return member.read()


def update() -> None:
    """Fetch every package, verify it, copy its files and write the manifest."""
    manifest: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for package in PACKAGES:
            files = unpack(package, fetch(package, Path(scratch)))
            package.folder.mkdir(parents=True, exist_ok=True)
            for old in package.folder.iterdir():
                old.unlink()
            for name, data in files.items():
                (package.folder / Path(name).name).write_bytes(data)
            manifest[package.name] = {
                "version": package.version,
                "integrity": package.integrity,
                "licence": package.licence,
                "files": {Path(n).name: sha256(d) for n, d in files.items()},
            }
            print(f"{package.name}@{package.version}: {sum(map(len, files.values())):,} bytes")
    MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n")


def check() -> list[str]:
    """What differs between the committed vendor folder and the pins (empty: all true)."""
    problems: list[str] = []
    manifest = json.loads(MANIFEST.read_text())
    if sorted(manifest) != sorted(p.name for p in PACKAGES):
        problems.append(f"MANIFEST.json lists {sorted(manifest)}")
    for package in PACKAGES:
        entry = manifest.get(package.name, {})
        pinned = (package.version, package.integrity, package.licence)
        if (entry.get("version"), entry.get("integrity"), entry.get("licence")) != pinned:
            problems.append(f"{package.name}: MANIFEST.json is not from the pinned tarball")
        expected = entry.get("files", {})
        present = {p.name for p in package.folder.iterdir()} if package.folder.is_dir() else set()
        if present != {Path(n).name for n in package.files} or present != set(expected):
            problems.append(f"{package.name}: files {sorted(present)}")
        for name in present & set(expected):
            if sha256((package.folder / name).read_bytes()) != expected[name]:
                problems.append(f"{package.name}/{name}: SHA-256 differs from MANIFEST.json")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify offline, change nothing")
    args = parser.parse_args(argv)
    if args.check:
        problems = check()
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    update()
    return 0


if __name__ == "__main__":
    sys.exit(main())
