"""scripts/bump_image.py: the only writer of image pins in k8s/envs (CI and promotion)."""

from __future__ import annotations

import difflib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.gitops.argocd import REPO

SCRIPT = REPO / "scripts" / "bump_image.py"
TAG = "3f1c2a9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39"
DIGEST = "sha256:" + "ab" * 32


def bump(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, SCRIPT, *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )


@pytest.fixture
def envs(tmp_path: Path) -> Path:
    """A copy of the real k8s/envs folder."""
    shutil.copytree(REPO / "k8s" / "envs", tmp_path / "envs")
    return tmp_path / "envs"


def test_set_rewrites_only_the_tag_and_digest_lines(envs: Path) -> None:
    values = envs / "dev" / "values.yaml"
    before = values.read_text(encoding="utf-8")
    result = bump("set", values, "--tag", TAG, "--digest", DIGEST)
    assert result.returncode == 0, result.stderr
    after = values.read_text(encoding="utf-8")
    changed = [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="")
        if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))
    ]
    assert changed == [
        f"-{line}" for line in before.splitlines() if line.strip().startswith(("tag:", "digest:"))
    ] + [f'+  tag: "{TAG}"', f'+  digest: "{DIGEST}"']


def test_set_keeps_every_other_value_as_it_was(envs: Path) -> None:
    values = envs / "dev" / "values.yaml"
    before = yaml.safe_load(values.read_text(encoding="utf-8"))
    bump("set", values, "--tag", TAG, "--digest", DIGEST)
    after = yaml.safe_load(values.read_text(encoding="utf-8"))
    assert after["image"] == {**before["image"], "tag": TAG, "digest": DIGEST}
    assert {k: v for k, v in after.items() if k != "image"} == {
        k: v for k, v in before.items() if k != "image"
    }


def test_setting_the_same_image_again_changes_nothing(envs: Path) -> None:
    values = envs / "dev" / "values.yaml"
    bump("set", values, "--tag", TAG, "--digest", DIGEST)
    before = values.read_bytes()
    result = bump("set", values, "--tag", TAG, "--digest", DIGEST)
    assert result.returncode == 0
    assert "already pinned" in result.stdout
    assert values.read_bytes() == before


def test_promote_copies_the_dev_image_into_prod(envs: Path) -> None:
    bump("set", envs / "dev" / "values.yaml", "--tag", TAG, "--digest", DIGEST)
    prod_before = yaml.safe_load((envs / "prod" / "values.yaml").read_text(encoding="utf-8"))
    result = bump("promote", envs / "dev" / "values.yaml", envs / "prod" / "values.yaml")
    assert result.returncode == 0, result.stderr
    prod = yaml.safe_load((envs / "prod" / "values.yaml").read_text(encoding="utf-8"))
    assert prod["image"] == {**prod_before["image"], "tag": TAG, "digest": DIGEST}
    assert bump("show", envs / "prod" / "values.yaml").stdout.split() == [TAG, DIGEST]


@pytest.mark.parametrize(
    ("tag", "digest"),
    [
        (TAG, "sha256:abc"),
        (TAG, "latest"),
        ("-starts-with-a-dash", DIGEST),
        ("has space", DIGEST),
    ],
)
def test_a_malformed_tag_or_digest_is_refused_and_the_file_left_alone(
    envs: Path, tag: str, digest: str
) -> None:
    values = envs / "dev" / "values.yaml"
    before = values.read_bytes()
    result = bump("set", values, f"--tag={tag}", f"--digest={digest}")
    assert result.returncode == 2
    assert "bump_image:" in result.stderr
    assert values.read_bytes() == before


def test_a_file_without_an_image_block_is_a_clear_error(tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text("api:\n  tag: x\n  digest: y\n", encoding="utf-8")
    result = bump("set", values, "--tag", TAG, "--digest", DIGEST)
    assert result.returncode == 2
    assert "no top-level `image:` block" in result.stderr


def test_an_image_block_without_a_digest_line_is_a_clear_error(tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text("image:\n  repository: r\n  tag: x\napi:\n  digest: y\n", encoding="utf-8")
    result = bump("set", values, "--tag", TAG, "--digest", DIGEST)
    assert result.returncode == 2
    assert "no digest line" in result.stderr


def test_every_environment_pins_its_image_by_digest() -> None:
    for values in sorted((REPO / "k8s" / "envs").glob("*/values.yaml")):
        image = yaml.safe_load(values.read_text(encoding="utf-8"))["image"]
        result = bump("show", values)
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == [image["tag"], image["digest"]]
        assert image["digest"].startswith("sha256:"), values


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return result.stdout.strip()


@pytest.fixture
def history(tmp_path: Path) -> tuple[Path, list[str]]:
    """A git repository holding the dev values file, with three commits."""
    git(tmp_path, "init", "--quiet")
    values = tmp_path / "values.yaml"
    shutil.copy(REPO / "k8s" / "envs" / "dev" / "values.yaml", values)
    commits = []
    for number in range(3):
        (tmp_path / "code.txt").write_text(f"{number}\n", encoding="utf-8")
        git(tmp_path, "add", ".")
        git(tmp_path, "commit", "--quiet", "-m", f"change {number}")
        commits.append(git(tmp_path, "rev-parse", "HEAD"))
    return values, commits


def test_forward_only_moves_dev_to_a_newer_commit(history: tuple[Path, list[str]]) -> None:
    values, (first, second, _) = history
    bump("set", values, "--tag", first, "--digest", DIGEST, "--forward-only")
    result = bump(
        "set", values, "--tag", second, "--digest", "sha256:" + "cd" * 32, "--forward-only"
    )
    assert result.returncode == 0, result.stderr
    assert bump("show", values).stdout.split() == [second, "sha256:" + "cd" * 32]


def test_forward_only_never_rolls_dev_back_to_an_older_commit(
    history: tuple[Path, list[str]],
) -> None:
    values, (first, _, third) = history
    bump("set", values, "--tag", third, "--digest", DIGEST)
    before = values.read_bytes()
    result = bump(
        "set", values, "--tag", first, "--digest", "sha256:" + "cd" * 32, "--forward-only"
    )
    assert result.returncode == 0
    assert "already contains" in result.stdout
    assert values.read_bytes() == before


def test_without_forward_only_an_older_commit_can_be_pinned(
    history: tuple[Path, list[str]],
) -> None:
    values, (first, _, third) = history
    bump("set", values, "--tag", third, "--digest", DIGEST)
    bump("set", values, "--tag", first, "--digest", DIGEST)
    assert bump("show", values).stdout.split()[0] == first
