"""A generated sample data set, written once for the tests that only read it; and
the tests' Ctrl-C reaching the demo whatever started the tests."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from command import sample_data


@pytest.fixture(scope="session")
def default_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample data set ``make run`` generates (default seed and size)."""
    folder = tmp_path_factory.mktemp("sample") / "set"
    sample_data.ensure(folder, sample_data.SampleSpec())
    return folder


@pytest.fixture(scope="session", autouse=True)
def _ctrl_c_reaches_the_demo() -> Iterator[None]:
    """SIGINT as a terminal delivers it: a non-interactive shell starts a background
    job (``make test &``) with SIGINT ignored, every child inherits that, and the
    demo would never see the tests' Ctrl-C. Caught here, it is back to the default
    in each child started from now on (exec resets caught signals, not ignored ones)."""
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
