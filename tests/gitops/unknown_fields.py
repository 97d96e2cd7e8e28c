"""Find misspelt fields in custom resources, like the API server's strict field validation.

The npm validators of ``@kubernetes-models`` (ajv code generated from the
upstream CRD schemas) check types and required fields but accept any unknown
key, because the CRDs do not forbid them. Argo CD then silently ignores a
misspelt field (``valueFile:`` for ``valueFiles:``, ``selfheal:``), which is the
mistake most likely to go unseen. The same package ships TypeScript declarations
generated from the same schemas; this module reads the property names from them
and reports every key that the schema does not define.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
IMPORT = re.compile(r"import\s*\{([^}]*)\}\s*from\s*\"([^\"]+)\"")
INTERFACE = re.compile(r"export interface (\w+)(?:\s+extends\s+[\w, ]+)?\s*\{")
ALIAS = re.compile(r"export type (I\w+) = ([^;{]+);")
ENTRY = re.compile(r"\"?([\w$.-]+)\"?\??\s*:\s*(.*)", re.DOTALL)


@dataclass(frozen=True)
class Struct:
    fields: dict[str, Any]


@dataclass(frozen=True)
class ListOf:
    item: Any


@dataclass(frozen=True)
class MapOf:
    value: Any


@dataclass(frozen=True)
class Ref:
    path: Path


ANY = object()  # scalars, unions and free-form objects: nothing to check inside


def _split_top_level(text: str) -> list[str]:
    """Entries of an interface body, split at ``;`` outside nested braces and brackets."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char in "{<(":
            depth += 1
        elif char in "}>)":
            depth -= 1
        elif char == ";" and depth == 0:
            parts.append(text[start:index].strip())
            start = index + 1
    parts.append(text[start:].strip())
    return [part for part in parts if part]


def _closing_brace(text: str, opening: int) -> int:
    depth = 0
    for index in range(opening, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return index
    raise ValueError("unbalanced braces in a type declaration")


def _resolve_module(module: str, importer: Path, node_modules: Path) -> Path:
    base = importer.parent / module if module.startswith(".") else node_modules / module
    return base.with_name(base.name.removesuffix(".js") + ".d.ts")


def _parse_type(text: str, imports: dict[str, Path]) -> Any:
    text = text.strip()
    if text.startswith("Array<") and text.endswith(">"):
        return ListOf(_parse_type(text[len("Array<") : -1], imports))
    if text.startswith("{") and text.endswith("}"):
        inner = text[1:-1].strip()
        if inner.startswith("[key: string]"):
            return MapOf(_parse_type(inner.split(":", 2)[2].rstrip(";"), imports))
        return _parse_body(inner, imports)
    if text in imports:
        return Ref(imports[text])
    return ANY


def _parse_body(body: str, imports: dict[str, Path]) -> Any:
    fields = {}
    for entry in _split_top_level(body):
        match = ENTRY.fullmatch(entry)
        if match is None:
            return ANY  # an index signature or something this reader does not know
        fields[match[1]] = _parse_type(match[2], imports)
    # An empty declaration (RawExtension) means "any object", not "no fields".
    return Struct(fields) if fields else ANY


@cache
def declared_type(path: Path, node_modules: Path) -> Any:
    """The type that the declaration file ``path`` exports (its first interface or alias)."""
    source = COMMENT.sub("", path.read_text(encoding="utf-8"))
    imports = {
        name.strip(): _resolve_module(module, path, node_modules)
        for names, module in IMPORT.findall(source)
        for name in names.split(",")
    }
    interface = INTERFACE.search(source)
    if interface is not None:
        opening = interface.end() - 1
        return _parse_body(source[opening + 1 : _closing_brace(source, opening)], imports)
    alias = ALIAS.search(source)
    return _parse_type(alias[2], imports) if alias else ANY


def unknown_fields(value: Any, kind_type: Any, node_modules: Path, where: str = "") -> list[str]:
    """Paths (``/spec/source/helm/valueFile``) of keys in ``value`` that the schema lacks."""
    if isinstance(kind_type, Ref):
        kind_type = declared_type(kind_type.path, node_modules)
    found: list[str] = []
    if isinstance(kind_type, Struct) and isinstance(value, dict):
        for key, item in value.items():
            if key not in kind_type.fields:
                found.append(f"{where}/{key}")
            else:
                found += unknown_fields(item, kind_type.fields[key], node_modules, f"{where}/{key}")
    elif isinstance(kind_type, ListOf) and isinstance(value, list):
        for index, item in enumerate(value):
            found += unknown_fields(item, kind_type.item, node_modules, f"{where}/{index}")
    elif isinstance(kind_type, MapOf) and isinstance(value, dict):
        for key, item in value.items():
            found += unknown_fields(item, kind_type.value, node_modules, f"{where}/{key}")
    return found


def argocd_unknown_fields(obj: dict[str, Any], node_modules: Path) -> list[str]:
    """Unknown keys of an Argo CD object (Application, ApplicationSet, AppProject)."""
    folder = node_modules / "@kubernetes-models" / "argo-cd" / "argoproj.io" / "v1alpha1"
    return unknown_fields(obj, Ref(folder / f"{obj['kind']}.d.ts"), node_modules)
