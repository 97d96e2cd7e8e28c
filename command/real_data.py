"""The real data set shipped in the repository, unpacked once into a cache folder.

``data/`` holds ``wx_data.tar.xz``, ``yld_data.tar.xz``, ``ghcnd.tar.xz`` and
``stations.tar.xz`` (their provenance is in ``data/README.md``) and
``SHA256SUMS``, the digest of every file they hold. :func:`unpacked` turns them
into a folder holding ``wx_data/``, ``yld_data/``, ``ghcnd/`` and ``stations/``
(the GHCN inventory rows of those stations), named by the archives' digest, so a
changed archive is a new folder and an unchanged one is unpacked only once.
The folder appears whole or not at all: the archives are unpacked beside it,
checked against ``SHA256SUMS``, and only then renamed into place, so an
interrupted or concurrent unpack never leaves a half-made data set behind.
"""

from __future__ import annotations

import hashlib
import shutil
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

from warehouse.errors import ConfigError

ARCHIVES = Path(__file__).resolve().parent.parent / "data"
NAMES = ("wx_data", "yld_data", "ghcnd", "stations")
MANIFEST = "SHA256SUMS"
PREFIX = "real-data-"


def archives_present(archives: Path = ARCHIVES) -> bool:
    """True when ``archives`` holds every archive and the manifest (a checkout does)."""
    return (archives / MANIFEST).is_file() and all(
        (archives / f"{name}.tar.xz").is_file() for name in NAMES
    )


def unpacked(cache: Path, archives: Path = ARCHIVES) -> Path:
    """The folder under ``cache`` holding the unpacked data set; unpacked now if missing."""
    if not archives_present(archives):
        raise ConfigError(
            f"the real data set is missing from {archives} (expected "
            f"{', '.join(f'{n}.tar.xz' for n in NAMES)} and {MANIFEST}): "
            "restore it with git checkout -- data/"
        )
    target = cache / f"{PREFIX}{archives_digest(archives)[:16]}"
    if target.is_dir():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{PREFIX}", dir=cache))
    try:
        for name in NAMES:
            unpack(archives / f"{name}.tar.xz", staging)
        check(staging, read_manifest(archives / MANIFEST))
        staging.chmod(0o755)  # public data: readable by whoever may read the cache
        try:
            staging.rename(target)
        except OSError:
            if not target.is_dir():  # not merely another process having won the race
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _remove_stale(cache, keep=target)
    return target


def archives_digest(archives: Path) -> str:
    """One SHA-256 over the archives and the manifest, in a fixed order."""
    digest = hashlib.sha256()
    for name in [*(f"{n}.tar.xz" for n in NAMES), MANIFEST]:
        digest.update(name.encode() + b"\0" + file_sha256(archives / name).encode() + b"\n")
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    """The SHA-256 of one file, hex."""
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def unpack(archive: Path, into: Path) -> None:
    """Unpack ``archive`` into ``into``: plain files and folders only, never outside it."""
    with tarfile.open(archive, "r:xz") as tar:
        for member in tar:
            parts = PurePosixPath(member.name).parts
            unsafe = not parts or parts[0] == "/" or ".." in parts
            if unsafe or not (member.isfile() or member.isdir()):
                raise ConfigError(f"{archive}: refusing entry {member.name!r} (not a plain file)")
            path = into.joinpath(*parts)
            if member.isdir():
                path.mkdir(parents=True, exist_ok=True)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(member)
            assert source is not None  # a regular file always has content
            with source, path.open("xb") as out:
                shutil.copyfileobj(source, out, 1 << 20)


def read_manifest(path: Path) -> dict[str, str]:
    """``SHA256SUMS`` (``sha256sum`` output) as {relative path: digest}."""
    entries: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64:
            raise ConfigError(f"{path}:{number}: not a 'digest  path' line")
        entries[name] = digest
    return entries


def check(folder: Path, expected: dict[str, str]) -> None:
    """Fail unless ``folder`` holds exactly the files of ``expected``, byte for byte."""
    found = {
        path.relative_to(folder).as_posix(): file_sha256(path)
        for path in folder.rglob("*")
        if path.is_file()
    }
    wrong = sorted(n for n in expected.keys() | found.keys() if expected.get(n) != found.get(n))
    if wrong:
        raise ConfigError(
            f"the unpacked data set differs from {MANIFEST} in {len(wrong)} files "
            f"(e.g. {', '.join(wrong[:3])}): the archives in data/ are damaged"
        )


def _remove_stale(cache: Path, keep: Path) -> None:
    # Earlier versions of the data set, left by an older checkout.
    for path in cache.glob(f"{PREFIX}*"):
        if path != keep and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
