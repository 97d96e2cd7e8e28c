"""The Argo CD objects of ``argocd/`` and the Applications they generate.

Computes what the ApplicationSet controller computes for the features this
repository uses: the git files generator (a glob over the repository, each
YAML file's keys plus the ``path`` parameters) and Go-template field references
(``{{ .path.basename }}``) under ``missingkey=error``. Anything else (another
generator, a template function or pipeline) raises ``Unsupported`` rather than
being rendered wrongly, so that the tests can only pass on what they really
understand. Also: how Argo CD turns an Application into ``helm template``
arguments (chart folder, release name, namespace, value files).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent.parent
ARGOCD = REPO / "argocd"
FIELD_REFERENCE = re.compile(r"\{\{-?\s*((?:\.[A-Za-z_][A-Za-z0-9_]*)+)\s*-?\}\}")
ANY_ACTION = re.compile(r"\{\{.*?\}\}", re.DOTALL)
NOT_DNS = re.compile(r"[^a-z0-9.-]")


class Unsupported(Exception):
    """The ApplicationSet uses a feature this emulation does not implement."""


class MissingKey(Exception):
    """A template references a parameter that the generator did not produce."""


def load_objects(folder: Path = ARGOCD) -> list[dict[str, Any]]:
    """Every object in ``folder``'s YAML files, as ``kubectl apply -f folder`` reads them."""
    objects: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.y*ml")):
        objects += [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
    return objects


def one(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    """The single object of ``kind``."""
    found = [obj for obj in objects if obj.get("kind") == kind]
    assert len(found) == 1, f"expected one {kind} in argocd/, found {len(found)}"
    return found[0]


def _normalize(name: str) -> str:
    # As the controller's basenameNormalized: unsupported characters become '-'.
    return NOT_DNS.sub("-", name.lower())


def git_files_parameters(generator: dict[str, Any], repo: Path = REPO) -> list[dict[str, Any]]:
    """The parameter sets of a git files generator, one per matching file."""
    git = generator.get("git")
    if set(generator) != {"git"} or git is None or "directories" in git or "files" not in git:
        raise Unsupported(f"only the git files generator is emulated, not {sorted(generator)}")
    parameters = []
    for item in git["files"]:
        if item.get("exclude"):
            raise Unsupported("exclude patterns are not emulated")
        for path in sorted(repo.glob(item["path"])):
            content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            folder = path.parent.relative_to(repo)
            content["path"] = {
                "path": folder.as_posix(),
                "basename": folder.name,
                "basenameNormalized": _normalize(folder.name),
                "filename": path.name,
                "filenameNormalized": _normalize(path.name),
                "segments": list(folder.parts),
            }
            parameters.append(content)
    return parameters


def _lookup(parameters: dict[str, Any], reference: str) -> Any:
    value: Any = parameters
    for key in reference.lstrip(".").split("."):
        if not isinstance(value, dict) or key not in value:
            raise MissingKey(f"map has no entry for key {key!r} in {{{{ {reference} }}}}")
        value = value[key]
    return value


def render_string(template: str, parameters: dict[str, Any]) -> str:
    """``template`` with every ``{{ .a.b }}`` replaced, as Go's text/template would."""
    rendered = FIELD_REFERENCE.sub(lambda m: str(_lookup(parameters, m[1])), template)
    leftover = ANY_ACTION.search(rendered)
    if leftover is not None:
        raise Unsupported(f"template action {leftover[0]!r} is not emulated")
    return rendered


def render_template(value: Any, parameters: dict[str, Any]) -> Any:
    """Every string inside ``value`` rendered with ``parameters``."""
    if isinstance(value, str):
        return render_string(value, parameters)
    if isinstance(value, list):
        return [render_template(item, parameters) for item in value]
    if isinstance(value, dict):
        return {key: render_template(item, parameters) for key, item in value.items()}
    return value


def generate_applications(
    application_set: dict[str, Any], repo: Path = REPO
) -> list[dict[str, Any]]:
    """The Applications the ApplicationSet controller would create from ``repo``."""
    spec = application_set["spec"]
    if spec.get("goTemplate") is not True or "missingkey=error" not in spec.get(
        "goTemplateOptions", []
    ):
        raise Unsupported("only goTemplate with missingkey=error is emulated")
    if "templatePatch" in spec:
        raise Unsupported("templatePatch is not emulated")
    applications = []
    for generator in spec["generators"]:
        if "template" in generator.get("git", {}):
            raise Unsupported("generator-level templates are not emulated")
        for parameters in git_files_parameters(generator, repo):
            template = copy.deepcopy(spec["template"])
            metadata = render_template(template["metadata"], parameters)
            metadata["namespace"] = application_set["metadata"]["namespace"]
            applications.append(
                {
                    "apiVersion": "argoproj.io/v1alpha1",
                    "kind": "Application",
                    "metadata": metadata,
                    "spec": render_template(template["spec"], parameters),
                }
            )
    return applications


@dataclass(frozen=True)
class HelmSource:
    """What Argo CD passes to ``helm template`` for one Application."""

    chart: Path
    release: str
    namespace: str
    value_files: list[Path]


def helm_source(application: dict[str, Any], repo: Path = REPO) -> HelmSource:
    """The chart folder, release name, namespace and value files of ``application``."""
    spec = application["spec"]
    source = spec["source"]
    helm = source.get("helm", {})
    chart = (repo / source["path"]).resolve()
    return HelmSource(
        chart=chart,
        release=helm.get("releaseName") or application["metadata"]["name"],
        namespace=helm.get("namespace") or spec["destination"]["namespace"],
        # Relative to the chart folder, like Argo CD resolves them in its checkout.
        value_files=[(chart / name).resolve() for name in helm.get("valueFiles", [])],
    )
