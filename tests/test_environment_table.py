"""Every environment variable the code reads is in the configuration table of docs/operate.md."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from warehouse.settings import Settings

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ["warehouse", "ingest_job", "service", "command"]


def _is_os_environ(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def _reads_environment(func: ast.expr) -> bool:
    """``os.getenv`` or ``os.environ.get``."""
    if not isinstance(func, ast.Attribute):
        return False
    if func.attr == "getenv":
        return isinstance(func.value, ast.Name) and func.value.id == "os"
    return func.attr == "get" and _is_os_environ(func.value)


def _literal(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def environ_reads(path: Path) -> set[str]:
    """Names read with ``os.environ[...]``, ``os.environ.get(...)``, ``os.getenv(...)``, ``in``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        name = None
        if isinstance(node, ast.Subscript) and _is_os_environ(node.value):
            name = _literal(node.slice)
        elif isinstance(node, ast.Call) and node.args and _reads_environment(node.func):
            name = _literal(node.args[0])
        elif isinstance(node, ast.Compare) and any(_is_os_environ(c) for c in node.comparators):
            name = _literal(node.left)
        if name is not None:
            found.add(name)
    return found


def variables_the_code_reads() -> set[str]:
    names = {field.upper() for field in Settings.model_fields}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            names |= environ_reads(path)
    return names


def variables_in_the_readme_table() -> set[str]:
    readme = (REPO / "docs" / "operate.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row)}


def test_the_scan_finds_the_reads_it_must_find() -> None:
    # The scanner itself: settings fields, and os.environ reads outside the settings.
    code = variables_the_code_reads()
    assert {"DATABASE_URL", "PG_BIN_DIR", "PROMETHEUS_MULTIPROC_DIR"} <= code


def test_every_variable_the_code_reads_is_documented() -> None:
    missing = variables_the_code_reads() - variables_in_the_readme_table()
    assert not missing, f"add these to the table of docs/operate.md: {sorted(missing)}"
