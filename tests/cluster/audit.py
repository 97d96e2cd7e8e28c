"""The API server's audit log: who created what, and when, as the server saw it.

The control plane writes one JSON event a line (``--audit-log-path``) at the
``Metadata`` level for writes in the application's namespace, so a test can
read the order and the count of creations instead of inferring them from the
objects that happen to remain (Argo CD deletes a succeeded hook Job). Argo CD
syncs with server-side apply, so a creation is a ``create`` or an apply
``patch`` that the server answered with 201 Created.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from pathlib import Path

import yaml


def policy(namespace: str) -> dict[str, object]:
    """Writes in ``namespace`` at Metadata level; nothing else (small, and all we read)."""
    return {
        "apiVersion": "audit.k8s.io/v1",
        "kind": "Policy",
        "omitStages": ["RequestReceived"],
        "rules": [
            {
                "level": "Metadata",
                "verbs": ["create", "patch", "update", "delete"],
                "namespaces": [namespace],
            },
            {"level": "None"},
        ],
    }


@dataclass(frozen=True)
class Creation:
    """One successful create, as the API server logged it."""

    resource: str  # plural, e.g. "jobs"
    namespace: str
    name: str
    at: datetime.datetime  # when the server received the request
    user: str


def write_policy(folder: Path, namespace: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "audit-policy.yaml"
    path.write_text(yaml.safe_dump(policy(namespace)))
    return path


def _parse(line: str) -> Creation | None:
    event = json.loads(line)
    ref = event.get("objectRef") or {}
    code = (event.get("responseStatus") or {}).get("code", 0)
    if event.get("verb") not in ("create", "patch") or event.get("stage") != "ResponseComplete":
        return None
    if code != 201:  # 200 is a patch of what existed; 409 and others, refusals
        return None
    if ref.get("subresource"):
        return None
    # Generated names (generateName) are known only from the response: at
    # Metadata level the request's objectRef then has no name.
    return Creation(
        resource=ref.get("resource", ""),
        namespace=ref.get("namespace", ""),
        name=ref.get("name", ""),
        at=datetime.datetime.fromisoformat(event["requestReceivedTimestamp"]),
        user=(event.get("user") or {}).get("username", ""),
    )


def creations(log: Path, namespace: str) -> list[Creation]:
    """Every successful create in ``namespace``, in the order the server received them."""
    found = []
    for line in log.read_text().splitlines():
        created = _parse(line)
        if created is not None and created.namespace == namespace:
            found.append(created)
    return sorted(found, key=lambda c: c.at)
