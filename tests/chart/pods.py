"""Run a rendered container as a local process, the way the kubelet would start it.

The command, arguments and environment come from the rendered manifest only:
``env`` values, ``envFrom`` ConfigMaps (which must be among the rendered
objects), ``secretKeyRef`` lookups and secret volumes (which must name keys
the Secret really has). Secret volumes are written to a folder and their
mount paths rewritten to it, as a container would see them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.chart.render import Manifest

Secrets = dict[str, dict[str, str]]
VENV_BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Container:
    """One container of a rendered workload, with its pod spec."""

    spec: dict[str, Any]
    pod: dict[str, Any]

    @property
    def argv(self) -> list[str]:
        """command + args, with the command found in the project's virtualenv."""
        command = [str(part) for part in self.spec["command"]] + [
            str(part) for part in self.spec.get("args", [])
        ]
        found = shutil.which(command[0], path=str(VENV_BIN))
        assert found, f"{command[0]} is not installed in {VENV_BIN}"
        return [found, *command[1:]]

    def port(self, name: str) -> int:
        """The containerPort named ``name``."""
        ports = {p["name"]: p["containerPort"] for p in self.spec.get("ports", [])}
        assert name in ports, f"no container port named {name!r} (has {sorted(ports)})"
        return int(ports[name])


def container(objects: list[Manifest], kind: str, name_suffix: str) -> Container:
    """The single container of the workload ``kind`` named ``*name_suffix``."""
    found = [
        o for o in objects if o["kind"] == kind and o["metadata"]["name"].endswith(name_suffix)
    ]
    assert len(found) == 1, f"expected one {kind} *{name_suffix}"
    spec = found[0]["spec"]
    if kind == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    pod = spec["template"]["spec"]
    assert len(pod["containers"]) == 1
    return Container(pod["containers"][0], pod)


def secrets_from_external_secret(objects: list[Manifest], remote: dict[str, str]) -> Secrets:
    """The Secret External Secrets would write, given the remote JSON secret ``remote``."""
    external = next(o for o in objects if o["kind"] == "ExternalSecret")
    data = {
        item["secretKey"]: remote[item["remoteRef"]["property"]]
        for item in external["spec"]["data"]
    }
    return {external["spec"]["target"]["name"]: data}


def environment(
    objects: list[Manifest], box: Container, secrets: Secrets, folder: Path
) -> dict[str, str]:
    """The process environment the container gets, with secret volumes under ``folder``."""
    configmaps = {
        o["metadata"]["name"]: o.get("data", {}) for o in objects if o["kind"] == "ConfigMap"
    }
    env: dict[str, str] = {}
    for source in box.spec.get("envFrom", []):
        name = source["configMapRef"]["name"]
        assert name in configmaps, (
            f"envFrom names ConfigMap {name!r}, which the chart does not render"
        )
        env.update(configmaps[name])
    for item in box.spec.get("env", []):
        if "value" in item:
            env[item["name"]] = str(item["value"])
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            assert ref["key"] in secrets.get(ref["name"], {}), (
                f"Secret {ref['name']} has no key {ref['key']}"
            )
            env[item["name"]] = secrets[ref["name"]][ref["key"]]
    mounts = _mount_secret_volumes(box, secrets, folder)
    for name, value in env.items():
        for mount_path, local in mounts.items():
            if value.startswith(mount_path + "/"):
                env[name] = str(local) + value[len(mount_path) :]
    tmp = folder / "tmp"
    tmp.mkdir(exist_ok=True)
    return {"PATH": f"{VENV_BIN}:/usr/bin:/bin", "HOME": str(tmp), "TMPDIR": str(tmp), **env}


def _mount_secret_volumes(box: Container, secrets: Secrets, folder: Path) -> dict[str, Path]:
    volumes = {v["name"]: v for v in box.pod.get("volumes", [])}
    mounts: dict[str, Path] = {}
    for mount in box.spec.get("volumeMounts", []):
        secret = volumes[mount["name"]].get("secret")
        if secret is None:
            continue
        local = folder / "volumes" / mount["name"]
        local.mkdir(parents=True)
        stored = secrets.get(secret["secretName"], {})
        for item in secret["items"]:
            assert item["key"] in stored, f"Secret {secret['secretName']} has no key {item['key']}"
            (local / item["path"]).write_text(stored[item["key"]], encoding="utf-8")
        mounts[mount["mountPath"]] = local
    return mounts


def start(box: Container, env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    """Start the container's command as a process (stdout and stderr captured)."""
    return subprocess.Popen(
        box.argv,
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run(
    box: Container, env: dict[str, str], cwd: Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run the container's command to completion."""
    return subprocess.run(
        box.argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
