"""One cluster for the whole module (bringing one up is the slow part).

``WW_CLUSTER=kind`` uses a kind cluster (``make kind-test``); otherwise the
no-Docker cluster of :mod:`tests.cluster.nodocker` is built and started here.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster.deploy import Cluster
from tests.cluster.timings import Timings


def _require_root() -> None:
    if os.geteuid() == 0:
        return
    message = "the no-Docker cluster needs root (network namespace, containerd, kubelet)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; CI must run every test")
    pytest.skip(message)


@pytest.fixture(scope="module")
def cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    timings = Timings()
    if os.environ.get("WW_CLUSTER") == "kind":
        from tests.cluster import kind

        with kind.running(timings) as found:
            yield found
    else:
        _require_root()
        from tests.cluster import nodocker

        # Short: unix socket paths below it must stay under 108 bytes.
        base = Path(tempfile.mkdtemp(prefix="wwc-", dir="/tmp"))
        try:
            with nodocker.running(base, timings) as found:
                yield found
        finally:
            shutil.rmtree(base, ignore_errors=True)
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("\ncluster figures:\n" + timings.report())
