"""The layers of the house import one way: warehouse ← ingest_job ← service ← command."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# Each package, bottom first, with the packages above it that it must never import.
LAYERS = ["warehouse", "ingest_job", "service", "command"]


def imported_packages(path: Path) -> set[str]:
    """The top-level package of every import in ``path``, lazy imports inside functions included."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("layer", LAYERS[:-1])
def test_a_layer_imports_nothing_above_it(layer: str) -> None:
    above = set(LAYERS[LAYERS.index(layer) + 1 :])
    offenders = {
        str(path.relative_to(REPO)): sorted(imported_packages(path) & above)
        for path in sorted((REPO / layer).rglob("*.py"))
        if imported_packages(path) & above
    }
    assert offenders == {}, f"{layer}/ imports layers above it: {offenders}"


def test_the_check_sees_a_lazy_import_inside_a_function(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from service import app\n    import command.main\n")
    assert imported_packages(module) == {"service", "command"}
