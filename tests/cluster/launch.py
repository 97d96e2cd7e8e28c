"""Run tests/cluster the way a hosted runner can: root only where root is needed.

``make cluster-test`` (and so ``make test``) runs ``python -m tests.cluster.launch``:

1. it builds, or finds cached, every binary and image the cluster runs, before
   any namespace exists (the builds need the registries);
2. it makes the cluster's network namespace and its database host's (root:
   ``sudo -n`` unless it is root);
3. it runs pytest on tests/cluster inside the cluster's namespace as the
   invoking user, so that the tests reach every address the cluster has;
4. it removes what it made, and only that: its two namespaces (by the names it
   gave them) and its folder (root-owned state included);
5. it fails if the run left a file owned by root in the checkout.

Without root or passwordless sudo it still runs pytest, outside any namespace,
and the module skips saying so (``CI=true`` makes that a failure). Extra
arguments go to pytest. ``WW_CLUSTER=kind`` runs the same module, in the same
kind of namespace, on a kind cluster instead (:mod:`tests.cluster.kind`).
``--run MODULE [ARGS]`` runs ``python -m MODULE ARGS`` in the namespace instead of
pytest (the GitOps benchmark: ``--run bench.gitops_rollout``); it reads where it
is from :func:`environment`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from scripts.root import as_root, root_prefix
from tests.cluster import netns, nodocker
from tests.tools import REPO

# Read by tests/cluster/conftest.py: the namespace it runs in and the prepared folder.
NETNS_ENV = "WW_CLUSTER_NETNS"
BASE_ENV = "WW_CLUSTER_BASE"
UNAVAILABLE_ENV = "WW_CLUSTER_UNAVAILABLE"


def _pytest(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "pytest", str(REPO / "tests" / "cluster"), *args]


def _command(args: list[str]) -> list[str]:
    if args[:1] == ["--run"] and len(args) > 1:
        return [sys.executable, "-m", args[1], *args[2:]]
    return _pytest(args)


def environment() -> tuple[netns.Netns, Path] | None:
    """The namespace and the prepared folder this process was launched in, if any."""
    if NETNS_ENV not in os.environ:
        return None
    return netns.Netns(os.environ[NETNS_ENV]), Path(os.environ[BASE_ENV])


def _inside(ns: netns.Netns, argv: list[str], env: dict[str, str]) -> list[str]:
    """``argv`` in ``ns`` as this process's own user (root enters, then drops back)."""
    user = [] if os.geteuid() == 0 else [
        "setpriv", f"--reuid={os.getuid()}", f"--regid={os.getgid()}", "--init-groups", "--",
    ]  # fmt: skip
    return as_root(["nsenter", f"--net={ns.path}", "--", *user, "env", "-i",
                    *(f"{k}={v}" for k, v in env.items()), *argv])  # fmt: skip


def _root_owned(folder: Path) -> list[str]:
    """Paths under ``folder`` owned by root (none may be, when the tests are not root)."""
    found = subprocess.run(
        ["find", str(folder), "-path", str(folder / ".git"), "-prune", "-o", "-uid", "0",
         "-print"],
        capture_output=True, text=True, check=False,
    ).stdout  # fmt: skip
    return found.splitlines()


def _remove(base: Path) -> None:
    # containerd and kubelet leave root-owned state in it.
    subprocess.run(as_root(["rm", "-rf", "--one-file-system", str(base)]), check=False)


def _run_to_the_end(argv: list[str]) -> int:
    """Run the tests and wait for them even through Ctrl-C: the terminal interrupts
    them too, and their teardown must stop the cluster before its namespaces go
    (``subprocess.run`` would kill them at the first interrupt)."""
    process = subprocess.Popen(argv)
    while True:
        try:
            return process.wait()
        except KeyboardInterrupt:
            print("interrupted: waiting for the cluster's teardown", file=sys.stderr, flush=True)


def main(args: list[str]) -> int:
    kind = os.environ.get("WW_CLUSTER") == "kind"
    if root_prefix() is None:
        why = (
            "the cluster tests need root or passwordless sudo"
            " (network namespaces, containerd and kubelet, or dockerd)"
        )
        env = {**os.environ, UNAVAILABLE_ENV: why}
        return subprocess.run(_pytest(args), env=env, check=False).returncode
    # Short: unix socket paths below it must stay under 108 bytes.
    base = Path(tempfile.mkdtemp(prefix="wwc-", dir="/tmp"))
    ns = netns.Netns(f"wwc{os.getpid()}")
    try:
        started = time.monotonic()
        try:
            nodocker.prepare(base, kind=kind)
        except (Exception, pytest.skip.Exception, pytest.fail.Exception) as exc:
            # The module then skips, or fails under CI, saying what is missing.
            env = {**os.environ, UNAVAILABLE_ENV: f"the cluster's builds failed: {exc}"}
            return subprocess.run(_pytest(args), env=env, check=False).returncode
        print(f"cluster builds and images: {time.monotonic() - started:.0f} s", flush=True)
        netns.create(ns.name)
        env = {**os.environ, NETNS_ENV: ns.name, BASE_ENV: str(base)}
        code = _run_to_the_end(_inside(ns, _command(args), env))
    finally:
        netns.delete(ns)
        _remove(base)
    if os.geteuid() != 0 and (left := _root_owned(REPO)):
        print(f"the cluster run left files owned by root in the checkout: {left[:20]}",
              file=sys.stderr)  # fmt: skip
        return code or 1
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
