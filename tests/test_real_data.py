"""The real data set shipped in data/: unpacked byte for byte, once, whole or not at all."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from command import real_data as shipped
from warehouse.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent


def manifest() -> dict[str, str]:
    lines = (REPO / "data" / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    return {name: digest for digest, name in (line.split("  ", 1) for line in lines)}


def test_every_unpacked_file_has_the_sha256_of_the_committed_manifest(real_data: Path) -> None:
    found = {
        path.relative_to(real_data).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in real_data.rglob("*")
        if path.is_file()
    }
    assert found == manifest()


def test_the_data_set_is_the_challenge_set_and_the_ghcn_daily_files(real_data: Path) -> None:
    assert len(list((real_data / "wx_data").glob("*.txt"))) == 167
    assert [p.name for p in (real_data / "yld_data").iterdir()] == ["US_corn_grain_yield.txt"]
    assert len(list((real_data / "ghcnd").glob("*.dly"))) == 4


def test_the_inventory_has_one_row_for_each_shipped_station_in_noaa_order(real_data: Path) -> None:
    ids = sorted(p.stem for folder in ("wx_data", "ghcnd") for p in (real_data / folder).iterdir())
    lines = (real_data / "stations" / "ghcnd-stations.txt").read_text("ascii").splitlines()
    assert [line[:11] for line in lines] == ids


def test_the_data_set_is_unpacked_once(real_data: Path) -> None:
    marker = real_data / "wx_data" / "USC00110072.txt"
    before = marker.stat().st_mtime_ns
    assert real_data.parent.name == "real-data"
    assert shipped.unpacked(real_data.parent) == real_data
    assert marker.stat().st_mtime_ns == before
    assert [p.name for p in real_data.parent.iterdir()] == [real_data.name]  # no staging left


def small_archives(folder: Path, files: dict[str, bytes], manifest: dict[str, bytes]) -> Path:
    """Archives shaped like data/'s: one per top folder of ``files``, and a SHA256SUMS."""
    folder.mkdir(exist_ok=True)
    for name in shipped.NAMES:
        with tarfile.open(folder / f"{name}.tar.xz", "w:xz") as tar:
            for path, content in files.items():
                if path.startswith(f"{name}/"):
                    info = tarfile.TarInfo(path)
                    info.size = len(content)
                    tar.addfile(info, io.BytesIO(content))
    sums = [f"{hashlib.sha256(c).hexdigest()}  {p}" for p, c in sorted(manifest.items())]
    (folder / shipped.MANIFEST).write_text("\n".join(sums) + "\n")
    return folder


FILES = {
    "wx_data/USC00000001.txt": b"19850101\t  -22\t -128\t   94\n",
    "yld_data/US_corn_grain_yield.txt": b"1985\t225447\n",
    "ghcnd/USC00000001.dly": b"",
}


def test_a_changed_archive_is_a_new_folder_and_the_old_one_goes(tmp_path: Path) -> None:
    old = shipped.unpacked(tmp_path / "cache", small_archives(tmp_path / "a", FILES, FILES))
    changed = {**FILES, "yld_data/US_corn_grain_yield.txt": b"1985\t1\n"}
    new = shipped.unpacked(tmp_path / "cache", small_archives(tmp_path / "a", changed, changed))
    assert new != old
    assert not old.exists()
    assert (new / "yld_data" / "US_corn_grain_yield.txt").read_bytes() == b"1985\t1\n"


def test_an_archive_that_disagrees_with_the_manifest_is_refused_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    damaged = {**FILES, "yld_data/US_corn_grain_yield.txt": b"1985\t99\n"}
    archives = small_archives(tmp_path / "a", damaged, FILES)
    with pytest.raises(ConfigError, match=r"differs from SHA256SUMS in 1 files.*damaged"):
        shipped.unpacked(tmp_path / "cache", archives)
    assert list((tmp_path / "cache").iterdir()) == []


@pytest.mark.parametrize("name", ["../outside.txt", "/etc/outside.txt", "wx_data/link"])
def test_an_entry_that_is_not_a_plain_file_inside_the_folder_is_refused(
    tmp_path: Path, name: str
) -> None:
    archive = tmp_path / "evil.tar.xz"
    with tarfile.open(archive, "w:xz") as tar:
        info = tarfile.TarInfo(name)
        if name.endswith("link"):
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            tar.addfile(info)
        else:
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
    (tmp_path / "into").mkdir()
    with pytest.raises(ConfigError, match="refusing entry"):
        shipped.unpack(archive, tmp_path / "into")
    assert list((tmp_path / "into").iterdir()) == []
    assert not (tmp_path / "outside.txt").exists()


def test_missing_archives_name_what_is_missing_and_how_to_restore_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing from .*git checkout -- data/"):
        shipped.unpacked(tmp_path / "cache", tmp_path)
