"""A generated sample data set, written once for the tests that only read it."""

from __future__ import annotations

from pathlib import Path

import pytest

from command import sample_data


@pytest.fixture(scope="session")
def default_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample data set ``make run`` generates (default seed and size)."""
    folder = tmp_path_factory.mktemp("sample") / "set"
    sample_data.ensure(folder, sample_data.SampleSpec())
    return folder
