"""The chart README documents every value, and only values that exist.

A documented value is a leaf of values.yaml (a scalar, a list, an empty map)
or a map whose ``# --`` comment describes it as a whole (e.g.
``podSecurityContext``). Each needs a ``# --`` comment in values.yaml and a
row in the README's values table (``python -m tests.chart.values_doc`` prints
the table).
"""

from __future__ import annotations

import yaml

from tests.chart.render import CHART
from tests.chart.values_doc import comments, leaves, readme_keys, values_text


def documented() -> tuple[set[str], set[str]]:
    """(paths that must be documented, paths with a comment)."""
    text = values_text()
    commented = set(comments(text))
    return set(leaves(yaml.safe_load(text), commented)), commented


def test_every_value_has_a_comment_in_values_yaml() -> None:
    required, commented = documented()
    missing = sorted(required - commented)
    assert missing == [], f"give these values a `# --` comment in values.yaml: {missing}"


def test_every_value_is_in_the_readme_table() -> None:
    required, _ = documented()
    missing = sorted(required - readme_keys())
    assert missing == [], (
        f"add rows for these to the values table of {CHART / 'README.md'}: {missing}"
    )


def test_the_readme_table_names_no_value_that_does_not_exist() -> None:
    required, _ = documented()
    stale = sorted(readme_keys() - required)
    assert stale == [], f"these README rows name no value in values.yaml: {stale}"
