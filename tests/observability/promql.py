"""Just enough PromQL reading to list the metric names an expression selects."""

from __future__ import annotations

import re

# Parts that never hold a metric name: strings, label matchers, ranges,
# numbers and durations, and the label lists of by/without/on/ignoring/group_*.
_STRIP = (
    re.compile(r'"(?:[^"\\]|\\.)*"'),
    re.compile(r"(?<![\w:])\d[\w.]*"),
    re.compile(r"\{[^}]*\}"),
    re.compile(r"\[[^\]]*\]"),
    re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)"),
)
_WORD = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
             "unless", "offset", "atan2", "inf", "nan"}  # fmt: skip


def metric_names(expr: str) -> set[str]:
    """The metric names in ``expr`` (function and aggregation names excluded)."""
    for pattern in _STRIP:
        expr = pattern.sub(" ", expr)
    names = set()
    for match in _WORD.finditer(expr):
        following = expr[match.end() :].lstrip()
        if following.startswith("("):
            continue  # a function or an aggregation
        word = match.group()
        if word.lower() not in _KEYWORDS and not word.startswith("$"):
            names.add(word)
    return names
