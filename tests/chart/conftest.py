"""Fixtures for the chart tests: every values file the chart must render with."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chart.render import REPO, VALUES_FILES


def values_id(path: Path) -> str:
    return str(path.relative_to(REPO))


@pytest.fixture(params=VALUES_FILES, ids=values_id)
def values_file(request: pytest.FixtureRequest) -> Path:
    path: Path = request.param
    return path
