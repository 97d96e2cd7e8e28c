"""The chart README documents every value, and only values that exist.

A documented value is a leaf of values.yaml (a scalar, a list, an empty map)
or a map whose ``# --`` comment describes it as a whole (e.g.
``podSecurityContext``). Each needs a ``# --`` comment in values.yaml and a
row in the README's values table.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from tests.chart.render import CHART

KEY_LINE = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z0-9_]+):")
ROW = re.compile(r"^\| `(?P<key>[A-Za-z0-9_.]+)` \|")


def commented_paths(text: str) -> set[str]:
    """Dotted paths of the keys that follow a ``# --`` comment in values.yaml."""
    stack: list[tuple[int, str]] = []
    commented: set[str] = set()
    pending = False
    for line in text.splitlines():
        if line.strip().startswith("# --"):
            pending = True
            continue
        match = KEY_LINE.match(line)
        if not match:
            if line.strip() and not line.strip().startswith("#"):
                pending = False
            continue
        indent = len(match["indent"])
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, match["key"]))
        if pending:
            commented.add(".".join(key for _, key in stack))
        pending = False
    return commented


def value_leaves(node: Any, commented: set[str], prefix: str = "") -> set[str]:
    """Paths of what must be documented: leaves, and maps documented as a whole."""
    leaves: set[str] = set()
    for key, value in node.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and path not in commented:
            leaves |= value_leaves(value, commented, f"{path}.")
        else:
            leaves.add(path)
    return leaves


def readme_keys() -> set[str]:
    text = (CHART / "README.md").read_text(encoding="utf-8")
    return {m["key"] for line in text.splitlines() if (m := ROW.match(line))}


def values_text() -> str:
    return (CHART / "values.yaml").read_text(encoding="utf-8")


def test_every_value_has_a_comment_in_values_yaml() -> None:
    text = values_text()
    commented = commented_paths(text)
    leaves = value_leaves(yaml.safe_load(text), commented)
    missing = sorted(leaves - commented)
    assert missing == [], f"give these values a `# --` comment in values.yaml: {missing}"


def test_every_value_is_in_the_readme_table() -> None:
    text = values_text()
    leaves = value_leaves(yaml.safe_load(text), commented_paths(text))
    missing = sorted(leaves - readme_keys())
    assert missing == [], (
        f"add rows for these to the values table of {CHART / 'README.md'}: {missing}"
    )


def test_the_readme_table_names_no_value_that_does_not_exist() -> None:
    text = values_text()
    leaves = value_leaves(yaml.safe_load(text), commented_paths(text))
    stale = sorted(readme_keys() - leaves)
    assert stale == [], f"these README rows name no value in values.yaml: {stale}"
