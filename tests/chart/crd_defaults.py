"""Which fields a CRD's structural schema defaults that a rendered object leaves out.

The API server fills in every ``default`` of a CRD's schema when it stores a
custom resource. Argo CD's default diff ignores extra fields of a map in the
live object, but compares a list that is atomic (the default list type of a
CRD) as a whole: a defaulted field inside a list item that the chart does not
write makes the live object differ from git forever (OutOfSync, and with
selfHeal an endless re-sync). This module finds such fields without a cluster.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

CRDS = Path(__file__).resolve().parent / "crds"


def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """``(apiVersion, kind)`` → openAPIV3Schema of every CRD kept in tests/chart/crds."""
    schemas: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(CRDS.glob("*.yaml")):
        for crd in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not crd:
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                api_version = f"{group}/{version['name']}"
                schemas[(api_version, kind)] = version["schema"]["openAPIV3Schema"]
    return schemas


def _atomic(schema: dict[str, Any]) -> bool:
    return bool(schema.get("x-kubernetes-list-type", "atomic") == "atomic")


def defaulted_in_atomic_lists(
    value: Any, schema: dict[str, Any], path: str = "", in_atomic: bool = False
) -> Iterator[str]:
    """Paths of fields the API server would add inside an atomic list's items."""
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for name, sub in properties.items():
            here = f"{path}.{name}"
            if name in value:
                yield from defaulted_in_atomic_lists(value[name], sub, here, in_atomic)
            elif "default" in sub and in_atomic:
                yield f"{here} (default {sub['default']!r})"
    elif isinstance(value, list):
        items = schema.get("items", {})
        for index, item in enumerate(value):
            yield from defaulted_in_atomic_lists(
                item, items, f"{path}[{index}]", in_atomic or _atomic(schema)
            )
