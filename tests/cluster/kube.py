"""kubectl and the Python client against one cluster, whichever way it was made."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config

from tests.tools import require


@dataclass(frozen=True)
class Kube:
    kubeconfig: Path

    def kubectl(self, *args: str, stdin: str | None = None) -> str:
        command = [str(require("kubectl")), "--kubeconfig", str(self.kubeconfig), *args]
        result = subprocess.run(
            command, input=stdin, capture_output=True, text=True, timeout=120, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout

    def apply(self, objects: list[dict[str, Any]] | str, field_manager: str = "ww-test") -> None:
        """Server-side apply of objects (or YAML text)."""
        text = objects if isinstance(objects, str) else yaml.safe_dump_all(objects)
        self.kubectl(
            "apply",
            "--server-side",
            "--force-conflicts",
            f"--field-manager={field_manager}",
            "-f",
            "-",
            stdin=text,
        )

    def get(self, *args: str) -> Any:
        return json.loads(self.kubectl("get", *args, "-o", "json"))

    def api(self) -> client.ApiClient:
        return config.new_client_from_config(config_file=str(self.kubeconfig))


def load_yaml(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
