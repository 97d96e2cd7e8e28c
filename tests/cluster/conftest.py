"""One cluster for the whole module (bringing one up is the slow part).

The cluster is started here, inside the network namespace that
:mod:`tests.cluster.launch` made and started pytest in: the no-Docker cluster
of :mod:`tests.cluster.nodocker` (``make cluster-test``, and ``make test``), or
with ``WW_CLUSTER=kind`` a kind cluster (:mod:`tests.cluster.kind`,
``make kind-test``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.cluster.deploy import Cluster
from tests.cluster.launch import UNAVAILABLE_ENV, environment
from tests.cluster.timings import Timings


def _unavailable(why: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{why}; CI must run every test")
    pytest.skip(why)


@pytest.fixture(scope="module")
def cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    timings = Timings()
    if why := os.environ.get(UNAVAILABLE_ENV):
        _unavailable(why)
    launched = environment()
    if launched is None:
        _unavailable("tests/cluster runs inside its cluster's namespace: make cluster-test")
        return
    if os.environ.get("WW_CLUSTER") == "kind":
        from tests.cluster import kind

        with kind.running(*launched, timings) as found:
            yield found
    else:
        from tests.cluster import nodocker

        with nodocker.running(*launched, timings) as found:
            yield found
    # Teardown runs under pytest's output capture: lift it, or the figures vanish.
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line("\ncluster figures:\n" + timings.report())
