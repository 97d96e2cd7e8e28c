"""What values.yaml documents, and the README table made from it.

``python -m tests.chart.values_doc`` prints the values table for the chart
README (paste it over the old one after changing values.yaml).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import yaml

from tests.chart.render import CHART

KEY_LINE = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z0-9_]+):")
ROW = re.compile(r"^\| `(?P<key>[A-Za-z0-9_.]+)` \|")


def values_text() -> str:
    return (CHART / "values.yaml").read_text(encoding="utf-8")


def comments(text: str) -> dict[str, str]:
    """Dotted path -> its ``# --`` comment (continued on following ``#`` lines)."""
    stack: list[tuple[int, str]] = []
    found: dict[str, str] = {}
    pending: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("# --"):
            pending = [stripped[4:].strip()]
            continue
        if pending and stripped.startswith("#"):
            pending.append(stripped[1:].strip())
            continue
        match = KEY_LINE.match(line)
        if not match:
            if stripped:
                pending = []
            continue
        indent = len(match["indent"])
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, match["key"]))
        if pending:
            found[".".join(key for _, key in stack)] = " ".join(pending)
        pending = []
    return found


def leaves(node: dict[str, Any], commented: set[str], prefix: str = "") -> Iterator[str]:
    """Paths to document, in file order: leaves, and maps documented as a whole."""
    for key, value in node.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and path not in commented:
            yield from leaves(value, commented, f"{path}.")
        else:
            yield path


def readme_keys() -> set[str]:
    text = (CHART / "README.md").read_text(encoding="utf-8")
    return {m["key"] for line in text.splitlines() if (m := ROW.match(line))}


def table() -> str:
    """The README's values table: key, default, description."""
    text = values_text()
    described = comments(text)
    values = yaml.safe_load(text)
    rows = ["| Key | Default | Description |", "|---|---|---|"]
    for path in leaves(values, set(described)):
        node = values
        for part in path.split("."):
            node = node[part]
        default = json.dumps(node)
        shown = "see values.yaml" if len(default) > 60 else f"`{default}`".replace("|", "\\|")
        description = described.get(path, "").replace("|", "\\|")
        rows.append(f"| `{path}` | {shown} | {description} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(table())
