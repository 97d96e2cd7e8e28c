"""The layers of the house import one way: warehouse ← ingest_job ← service ← command.

Inside ``service``, too: the endpoints stand on the list flow and the HTTP
middleware, the list flow on the middleware, and neither of the lower two knows an endpoint.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# Each package, bottom first, with the packages above it that it must never import.
LAYERS = ["warehouse", "ingest_job", "service", "command"]
# The subpackages of service, bottom first; the top-level modules besides app.py
# (models, queries, problems, ...) are the service's core and import no endpoint.
SERVICE_LAYERS = ["service.middleware", "service.lists", "service.endpoints", "service.app"]


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, lazy imports inside functions included.

    ``from a.b import c`` counts as ``a.b.c``: c may be a module.
    """
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def imported_packages(path: Path) -> set[str]:
    """The top-level package of every import in ``path``, lazy imports inside functions included."""
    return {name.split(".")[0] for name in imported_modules(path)}


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(REPO).with_suffix("").parts)


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


@pytest.mark.parametrize("layer", LAYERS[:-1])
def test_a_layer_imports_nothing_above_it(layer: str) -> None:
    above = set(LAYERS[LAYERS.index(layer) + 1 :])
    offenders = {
        str(path.relative_to(REPO)): sorted(imported_packages(path) & above)
        for path in sorted((REPO / layer).rglob("*.py"))
        if imported_packages(path) & above
    }
    assert offenders == {}, f"{layer}/ imports layers above it: {offenders}"


@pytest.mark.parametrize("layer", SERVICE_LAYERS[:-1])
def test_a_service_subpackage_imports_nothing_above_it(layer: str) -> None:
    above = SERVICE_LAYERS[SERVICE_LAYERS.index(layer) + 1 :]
    offenders = {
        str(path.relative_to(REPO)): bad
        for path in sorted((REPO / layer.replace(".", "/")).rglob("*.py"))
        if (bad := sorted(m for m in imported_modules(path) if any(_within(m, a) for a in above)))
    }
    assert offenders == {}, f"{layer} imports service layers above it: {offenders}"


def test_the_service_core_imports_no_endpoint() -> None:
    core = [
        p for p in sorted((REPO / "service").glob("*.py")) if p.name not in {"app.py", "cli.py"}
    ]
    offenders = {
        _module_name(path): bad
        for path in core
        if (bad := sorted(m for m in imported_modules(path) if _within(m, "service.endpoints")))
    }
    assert offenders == {}, f"service's core imports endpoints: {offenders}"


def test_the_check_sees_a_lazy_import_inside_a_function(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from service import app\n    import command.main\n")
    assert imported_packages(module) == {"service", "command"}
