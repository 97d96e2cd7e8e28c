"""Render the Helm chart and check the result with tools no one here wrote.

Reusable by every test that renders the chart (the chart's own scenarios in
``helm/weather-warehouse/ci/`` and the GitOps environments in ``k8s/envs/``):

- :func:`render`: ``helm template`` with values files, parsed into objects;
- :func:`lint`: ``helm lint --strict``;
- :func:`validate_builtin`: built-in kinds against the Kubernetes schemas
  (``kubernetes-validate --strict``) of one Kubernetes version;
- :func:`validate_crds`: custom resources against their upstream CRD schemas
  (the npm ``@kubernetes-models`` validators, run by Node);
- :func:`crd_errors`: the same validators for any objects (Argo CD's too),
  errors per object;
- :func:`run_checkov`: checkov's Kubernetes checks.

Every checker returns a list of human-readable problems: empty means clean.
"""

from __future__ import annotations

import copy
import functools
import json
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from tests.tools import node_modules, require

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "helm" / "weather-warehouse"
VALIDATOR = Path(__file__).resolve().parent / "validate_crds.mjs"

# The cluster has the prometheus-operator CRDs (Argo CD passes the cluster's
# API versions to `helm template`; tests say so explicitly).
DEFAULT_API_VERSIONS = ("monitoring.coreos.com/v1",)

# API groups whose kinds are custom resources (validated by validate_crds).
CRD_GROUPS = ("external-secrets.io", "monitoring.coreos.com", "argoproj.io")

Manifest = dict[str, Any]


def scenario_files() -> list[Path]:
    """The chart's own scenarios: ``helm/weather-warehouse/ci/*-values.yaml``."""
    return sorted((CHART / "ci").glob("*-values.yaml"))


def environment_files() -> list[Path]:
    """The GitOps environments' values: ``k8s/envs/*/values.yaml`` (none until they exist)."""
    return sorted((REPO / "k8s" / "envs").glob("*/values.yaml"))


# Scenario files of the chart plus the GitOps environments, each rendered alone.
VALUES_FILES = scenario_files() + environment_files()


def _values_args(values_files: Sequence[Path], set_values: Mapping[str, Any] | None) -> list[str]:
    args: list[str] = []
    for path in values_files:
        args += ["--values", str(path)]
    for key, value in (set_values or {}).items():
        args += ["--set-json", f"{key}={json.dumps(value)}"]
    return args


def render(
    values_files: Sequence[Path],
    release: str = "wh",
    namespace: str = "weather",
    helm: str = "helm3",
    set_values: Mapping[str, Any] | None = None,
    *,
    api_versions: Iterable[str] = DEFAULT_API_VERSIONS,
    cached: bool = True,
    extra_args: Sequence[str] = (),
) -> list[Manifest]:
    """``helm template`` the chart and return the objects it renders (hooks included).

    ``set_values`` maps dotted keys to values (passed with ``--set-json``, so
    types are kept); ``extra_args`` go to Helm as they are (``--set k=v``, with Helm's
    own typing). Renderings are cached per command unless ``cached=False``.
    Raises :class:`subprocess.CalledProcessError` (with Helm's message in
    ``stderr``) when rendering fails.
    """
    command = [str(require(helm)), "template", release, str(CHART), "--namespace", namespace]
    command += _values_args(values_files, set_values) + list(extra_args)
    for version in api_versions:
        command += ["--api-versions", version]
    # Each scenario is rendered by many tests: run Helm once per distinct
    # command (values files are read by Helm, so their content is the key too).
    contents = tuple(Path(path).read_bytes() for path in values_files)
    if not cached:
        return _template.__wrapped__(tuple(command), contents)
    return copy.deepcopy(_template(tuple(command), contents))


@functools.cache
def _template(command: tuple[str, ...], contents: tuple[bytes, ...]) -> list[Manifest]:
    del contents  # part of the cache key only
    result = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60)
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def render_error(
    values_files: Sequence[Path],
    set_values: Mapping[str, Any] | None = None,
    helm: str = "helm3",
) -> str:
    """Helm's error message for a rendering that must fail ("" if it rendered)."""
    try:
        render(values_files, helm=helm, set_values=set_values)
    except subprocess.CalledProcessError as exc:
        return str(exc.stderr)
    return ""


def notes(values_files: Sequence[Path], release: str = "wh", namespace: str = "weather") -> str:
    """The rendered NOTES.txt (``helm4 install --dry-run=client`` needs no cluster)."""
    command = [str(require("helm4")), "install", release, str(CHART), "--namespace", namespace,
               "--dry-run=client", *_values_args(values_files, None)]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60)
    return result.stdout.partition("\nNOTES:\n")[2]


def lint(
    values_files: Sequence[Path],
    helm: str = "helm3",
    set_values: Mapping[str, Any] | None = None,
) -> list[str]:
    """``helm lint --strict``: its output when it fails, else []."""
    command = [str(require(helm)), "lint", "--strict", str(CHART), "--namespace", "weather"]
    command += _values_args(values_files, set_values)
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    return [] if result.returncode == 0 else [result.stdout + result.stderr]


def is_custom(obj: Manifest) -> bool:
    """Whether ``obj`` is a custom resource (its group belongs to an installed CRD)."""
    return str(obj["apiVersion"]).split("/")[0] in CRD_GROUPS


def objects(rendered: Iterable[Manifest], kind: str) -> list[Manifest]:
    """The rendered objects of one kind."""
    return [obj for obj in rendered if obj.get("kind") == kind]


def only(rendered: Iterable[Manifest], kind: str) -> Manifest:
    """The one rendered object of ``kind`` (fails if there is not exactly one)."""
    found = objects(rendered, kind)
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def pod_spec(obj: Manifest) -> dict[str, Any] | None:
    """The pod spec of a workload (Deployment, Job, CronJob, ...); None for other kinds."""
    if obj["kind"] == "CronJob":
        obj = obj["spec"]["jobTemplate"]
    elif obj["kind"] not in {"Deployment", "Job", "StatefulSet", "DaemonSet", "ReplicaSet"}:
        return None
    spec: dict[str, Any] = obj["spec"]["template"]["spec"]
    return spec


def pod_specs(rendered: Iterable[Manifest]) -> list[tuple[str, dict[str, Any]]]:
    """(kind/name, pod spec) of every workload in ``rendered``."""
    return [
        (f"{obj['kind']}/{obj['metadata']['name']}", spec)
        for obj in rendered
        if (spec := pod_spec(obj)) is not None
    ]


def named(objects: Iterable[Manifest], kind: str, name_suffix: str = "") -> Manifest:
    """The one object of ``kind`` whose name ends with ``name_suffix``."""
    found = [
        o for o in objects if o["kind"] == kind and o["metadata"]["name"].endswith(name_suffix)
    ]
    assert len(found) == 1, f"expected one {kind} named *{name_suffix}, found {len(found)}"
    return found[0]


def _write_yaml(objects: Iterable[Manifest], folder: Path) -> Path:
    path = folder / "manifests.yaml"
    path.write_text(yaml.safe_dump_all(list(objects), sort_keys=False), encoding="utf-8")
    return path


def validate_builtin(objects: Sequence[Manifest], k8s_version: str) -> list[str]:
    """Built-in objects against the Kubernetes ``k8s_version`` (e.g. "1.30.0") schemas, strictly."""
    builtin = [o for o in objects if not is_custom(o)]
    tool = require("kubernetes-validate")
    with tempfile.TemporaryDirectory(prefix="wh-k8s-") as folder:
        path = _write_yaml(builtin, Path(folder))
        result = subprocess.run(
            [str(tool), "--strict", "--no-warn", "-k", k8s_version, str(path)],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
    output = (result.stdout + result.stderr).splitlines()
    problems = [line for line in output if not line.startswith("INFO")]
    passed = sum(1 for line in output if line.startswith("INFO") and " passed " in line)
    if result.returncode != 0 and not problems:
        problems = [f"kubernetes-validate exited {result.returncode}"]
    if not problems and passed != len(builtin):
        problems = [f"kubernetes-validate checked {passed} of {len(builtin)} objects"]
    return problems


def crd_errors(objects: Sequence[Manifest]) -> dict[str, list[str]]:
    """Schema errors per ``apiVersion/kind/name`` from the upstream CRD validators (Node).

    Every object is checked, whatever its group: one of a kind without a
    validator gets an error. Raises :class:`RuntimeError` if the validator fails.
    """
    return {f"{r['kind']}/{r['name']}": r["errors"] for r in _crd_reports(objects)}


def validate_crds(objects: Sequence[Manifest]) -> list[str]:
    """Custom resources against the upstream CRD schemas (npm ``@kubernetes-models``)."""
    custom = [o for o in objects if is_custom(o)]
    if not custom:
        return []
    try:
        reports = _crd_reports(custom)
    except RuntimeError as exc:
        return [str(exc)]
    return [
        f"{report['kind']} {report['name']}: {error}"
        for report in reports
        for error in report["errors"]
    ]


def _crd_reports(objects: Sequence[Manifest]) -> list[dict[str, Any]]:
    """One ``{kind, name, errors}`` per object, in order (see validate_crds.mjs)."""
    modules = node_modules()
    result = subprocess.run(
        [str(require("node")), str(VALIDATOR), str(modules)],
        input=json.dumps(list(objects)),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if result.returncode != 0:
        raise RuntimeError(f"validator failed: {result.stderr.strip()}")
    reports: list[dict[str, Any]] = json.loads(result.stdout)
    assert len(reports) == len(objects)
    return reports


def run_checkov(objects: Sequence[Manifest]) -> list[str]:
    """checkov's Kubernetes checks: one line per failed check (the chart's skips pass)."""
    tool = require("checkov")
    with tempfile.TemporaryDirectory(prefix="wh-checkov-") as folder:
        path = _write_yaml(objects, Path(folder))
        result = subprocess.run(
            [
                str(tool),
                "--skip-download",
                "--framework",
                "kubernetes",
                "--quiet",
                "--output",
                "json",
                "--file",
                str(path),
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        return [f"checkov did not report (exit {result.returncode}): {result.stderr[-2000:]}"]
    reports = report if isinstance(report, list) else [report]
    failures = [
        f"{check['check_id']} {check['resource']}: {check['check_name']}"
        for one in reports
        for check in one.get("results", {}).get("failed_checks", [])
    ]
    checked = sum(one.get("summary", {}).get("resource_count", 0) for one in reports)
    if checked == 0:
        failures.append("checkov checked no resources")
    return failures
