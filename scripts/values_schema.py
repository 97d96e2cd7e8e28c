"""Generate the chart's ``values.schema.json`` from ``values.yaml`` and its annotations.

Each fact of the value tree is written once, in ``values.yaml``:

- the structure and the JSON type come from the default values themselves;
- the description comes from the ``# --`` comment that helm-docs also reads;
- anything more (an enum, a pattern, bounds, ``required``, a ``$ref``) comes from a
  ``# @schema`` block just above that comment, in the syntax of the helm-schema tool
  (lines between two ``# @schema`` markers hold YAML merged into the key's schema);
- a ``# @schema.root`` block at the top of the file is merged into the root
  (shared ``definitions``, extra root properties such as ``global``).

A map is closed (``additionalProperties: false``) and its keys are described one by
one, unless it has a ``# --`` comment of its own: then it is documented as a whole and
its annotation says what it may hold.

``python scripts/values_schema.py`` writes the file; ``--check`` exits 1 if the
committed file differs from what this generates (``make test`` runs that check).
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CHART = Path(__file__).resolve().parent.parent / "helm" / "weather-warehouse"
KEY_LINE = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z0-9_]+):")
HELM_DOCS_TYPE = re.compile(r"^\([a-z]+\) ")
# Annotations that say what the value is, so the type is not inferred from the default.
TYPE_GIVING = ("type", "$ref", "anyOf", "oneOf", "const")


@dataclass
class Annotated:
    """What the comments of values.yaml say, by dotted path."""

    descriptions: dict[str, str] = field(default_factory=dict)
    schemas: dict[str, dict[str, Any]] = field(default_factory=dict)
    root: dict[str, Any] = field(default_factory=dict)


def read_comments(text: str) -> Annotated:
    """Descriptions (``# --``) and schema annotations (``# @schema``) of every key."""
    reader = _CommentReader()
    for line in text.splitlines():
        reader.read(line)
    return reader.found


class _CommentReader:
    """Reads values.yaml line by line, remembering the comments above each key."""

    def __init__(self) -> None:
        self.found = Annotated()
        self.stack: list[tuple[int, str]] = []  # (indent, key) of the keys enclosing the line
        self.description: list[str] = []
        self.block: list[str] | None = None  # lines of an open @schema block
        self.root_block = False
        self.schema: dict[str, Any] = {}
        self.list_indent: int | None = None  # lines of a list item are not keys

    def read(self, line: str) -> None:
        stripped = line.strip()
        if stripped in ("# @schema", "# @schema.root"):
            self._marker(stripped)
        elif self.block is not None:
            self.block.append(line.split("#", 1)[1][1:] if "#" in line else "")
        elif stripped.startswith("# --"):
            # helm-docs' "(float)" names the README's type; the schema says its own.
            self.description = [HELM_DOCS_TYPE.sub("", stripped[4:].strip(), count=1)]
        elif self.description and stripped.startswith("#"):
            self.description.append(stripped[1:].strip())
        else:
            self._value_line(line, stripped)

    def _marker(self, stripped: str) -> None:
        if self.block is None:
            self.block, self.root_block = [], stripped.endswith(".root")
            return
        parsed = yaml.safe_load("\n".join(self.block)) or {}
        if self.root_block:
            self.found.root = parsed
        else:
            self.schema = parsed
        self.block = None

    def _value_line(self, line: str, stripped: str) -> None:
        indent = len(line) - len(line.lstrip(" "))
        if self.list_indent is not None and (indent > self.list_indent or not stripped):
            return
        self.list_indent = indent if stripped.startswith("- ") else None
        match = KEY_LINE.match(line)
        if self.list_indent is not None or not match:
            if stripped and not stripped.startswith("#"):
                self.description, self.schema = [], {}
            return
        while self.stack and self.stack[-1][0] >= indent:
            self.stack.pop()
        self.stack.append((indent, match["key"]))
        path = ".".join(key for _, key in self.stack)
        if self.description:
            self.found.descriptions[path] = " ".join(self.description)
        if self.schema:
            self.found.schemas[path] = self.schema
        self.description, self.schema = [], {}


JSON_TYPES = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"),
              (list, "array"), (dict, "object"))  # fmt: skip


def inferred_type(value: Any) -> str:
    """The JSON type of a default value (bool before int: a bool is an int in Python)."""
    return next((name for kind, name in JSON_TYPES if isinstance(value, kind)), "null")


def schema_of(path: str, value: Any, notes: Annotated) -> dict[str, Any]:
    """The schema of one value: inferred from its default, then its annotation on top."""
    annotation = notes.schemas.get(path, {})
    schema: dict[str, Any] = {}
    if path in notes.descriptions:
        schema["description"] = notes.descriptions[path]
    if not any(key in annotation for key in TYPE_GIVING):
        schema["type"] = inferred_type(value)
    whole = path in notes.descriptions  # a map with its own comment is documented as a whole
    if isinstance(value, dict) and value and not whole:
        schema["properties"] = {
            key: schema_of(f"{path}.{key}" if path else key, child, notes)
            for key, child in value.items()
        }
        schema["additionalProperties"] = False
    schema.update(annotation)
    return schema


def generate(values_file: Path = CHART / "values.yaml") -> dict[str, Any]:
    """The whole values schema (draft-07) that ``values_file`` describes."""
    text = values_file.read_text(encoding="utf-8")
    notes = read_comments(text)
    body = schema_of("", yaml.safe_load(text), notes)
    root = dict(notes.root)
    extra = root.pop("properties", {})
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        **root,
        **body,
    }
    schema["properties"] = {**extra, **body["properties"]}
    return schema


def render(schema: dict[str, Any]) -> str:
    """The file's text: two-space indented JSON and a final newline."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    target = CHART / "values.schema.json"
    text = render(generate())
    if "--check" in argv:
        if target.read_text(encoding="utf-8") != text:
            print(f"{target} is stale: run python scripts/values_schema.py", file=sys.stderr)
            return 1
        return 0
    target.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
