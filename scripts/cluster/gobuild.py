"""Build a Go command from the module proxy in a scratch module, cached by version.

A module whose go.mod replaces its siblings with local folders (Kubernetes'
staging modules, etcd's api/client modules) cannot be built with ``go install
module@version``: the replaces are ignored outside its own repository. So the
scratch module requires it and copies its ``replace`` block, turning every
local-folder replace into ``sibling => sibling <version>``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

CACHE = Path(os.environ.get("WW_TOOL_CACHE", Path.home() / ".cache" / "weather-warehouse"))


def tool_dir(tool: str, version: str) -> Path:
    """The cache folder of one tool at one version."""
    return CACHE / f"{tool}-{version}"


def go(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run the go command and return its standard output (raises on failure)."""
    full = {**os.environ, "GOFLAGS": "-mod=mod", "CGO_ENABLED": "0", "GOTOOLCHAIN": "local"}
    result = subprocess.run(
        ["go", *args],
        cwd=cwd,
        env={**full, **(env or {})},
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return result.stdout


def module_dir(module: str, version: str, scratch: Path) -> Path:
    """Download one module version and return its folder in the module cache."""
    out = go("mod", "download", "-json", f"{module}@{version}", cwd=scratch)
    return Path(json.loads(out)["Dir"])


_REPLACE_BLOCK = re.compile(r"^replace\s*\((.*?)^\)", re.S | re.M)
_REPLACE_LINE = re.compile(r"^replace\s+(.+)$", re.M)


def replaces(gomod: str, local_version: Callable[[str], str]) -> list[str]:
    """The replace directives of a go.mod, local folders turned into versions."""
    lines = [line for block in _REPLACE_BLOCK.findall(gomod) for line in block.splitlines()]
    lines += [m for m in _REPLACE_LINE.findall(gomod) if not m.strip().startswith("(")]
    out = []
    for raw in lines:
        line = raw.split("//")[0].strip()
        if "=>" not in line:
            continue
        old, new = (part.strip() for part in line.split("=>"))
        if new.startswith("."):
            name = old.split()[0]
            version = local_version(name)
            major = version.lstrip("v").split(".")[0]
            if int(major) >= 2 and not name.endswith(f"/v{major}"):
                continue  # e.g. etcd's "go.etcd.io/etcd => ./FORBIDDEN_DEPENDENCY" guard
            out.append(f"{name} => {name} {version}")
        else:
            out.append(f"{old} => {new}")
    return out


def _patched_copy(src: Path, patch: Path, copy: Path) -> Path:
    """A writable copy of a module's source with ``patch`` applied (fails if it does not apply)."""
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(src, copy)
    for path in [copy, *copy.rglob("*")]:  # the module cache is read-only
        path.chmod(path.stat().st_mode | 0o200)
    subprocess.run(["git", "apply", "-p1", str(patch)], cwd=copy, check=True)
    return copy


def build(
    tool: str,
    version: str,
    module: str,
    packages: Sequence[str],
    *,
    local_version: Callable[[str], str] | None = None,
    ldflags: str = "",
    extra_replaces: Sequence[str] = (),
    patch: Path | None = None,
) -> Path:
    """Build ``packages`` of ``module@version`` into the tool's cache ``bin/``; skip if there.

    ``patch`` (a unified diff against the module's root) is applied to a copy of
    the module, which then replaces it in the scratch module."""
    target = tool_dir(tool, version)
    if patch is not None:  # a changed patch is another build
        target = tool_dir(tool, f"{version}-{hashlib.sha256(patch.read_bytes()).hexdigest()[:12]}")
    bindir = target / "bin"
    stamp = target / ".built"
    if stamp.exists():
        print(f"{tool} {version}: cached in {target}", flush=True)
        return bindir
    started = time.monotonic()
    scratch = target / "src"
    scratch.mkdir(parents=True, exist_ok=True)
    (scratch / "go.mod").write_text("module wwbuild\n\ngo 1.24\n")
    src = module_dir(module, version, scratch)
    gomod = (src / "go.mod").read_text()
    rep = replaces(gomod, local_version or (lambda _name: version)) + list(extra_replaces)
    if patch is not None:
        rep.append(f"{module} => {_patched_copy(src, patch, scratch / 'patched')}")
    (scratch / "go.mod").write_text(
        "module wwbuild\n\ngo 1.24\n\n"
        f"require {module} {version}\n\n" + "".join(f"replace {r}\n" for r in rep)
    )
    bindir.mkdir(parents=True, exist_ok=True)
    go(
        "build",
        "-trimpath",
        "-ldflags",
        f"-s -w {ldflags}",
        "-o",
        f"{bindir}/",
        *packages,
        cwd=scratch,
    )
    stamp.write_text(version)
    print(f"{tool} {version}: built in {time.monotonic() - started:.0f} s", flush=True)
    return bindir
