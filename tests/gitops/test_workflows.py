"""The GitHub Actions workflows: valid, audited, pinned, and wired to the GitOps layout."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.gitops.argocd import REPO, generate_applications, helm_source, load_objects, one
from tests.tools import require

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.y*ml"))
DELIVER = REPO / ".github" / "workflows" / "deliver.yaml"
PROMOTE = REPO / ".github" / "workflows" / "promote.yaml"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$")


def load(path: Path) -> dict[Any, Any]:
    # PyYAML reads the key `on` as True (YAML 1.1); GitHub reads it as "on".
    workflow: dict[Any, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_there_are_the_delivery_and_promotion_workflows() -> None:
    assert DELIVER in WORKFLOWS
    assert PROMOTE in WORKFLOWS


def test_workflows_pass_the_github_workflow_schema() -> None:
    check = require("check-jsonschema")
    result = subprocess.run(
        [check, "--builtin-schema", "vendor.github-workflows", *WORKFLOWS],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing_in_the_workflows() -> None:
    zizmor = require("zizmor")
    result = subprocess.run(
        [zizmor, "--offline", "--no-progress", "--format", "plain", *WORKFLOWS],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout, result.stdout


def test_zizmor_reports_an_unpinned_action_that_keeps_its_credentials(tmp_path: Path) -> None:
    workflow = tmp_path / "bad.yaml"
    workflow.write_text(
        "on: push\npermissions: {}\njobs:\n  build:\n    runs-on: ubuntu-24.04\n"
        "    permissions:\n      contents: read\n    steps:\n"
        "      - uses: actions/checkout@v5\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [require("zizmor"), "--offline", "--no-progress", "--format", "plain", workflow],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode != 0
    assert "artipacked" in result.stdout
    assert "unpinned-uses" in result.stdout


def test_every_action_is_pinned_by_commit_sha_with_its_version() -> None:
    for path in WORKFLOWS:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip().startswith(("uses:", "- uses:")):
                reference = line.split("uses:", 1)[1].strip()
                assert PINNED.match(reference), f"{path.name}: {reference}"


def test_workflows_grant_nothing_by_default_and_each_job_only_what_it_needs() -> None:
    for path in WORKFLOWS:
        workflow = load(path)
        assert workflow["permissions"] == {}, path.name
        for name, job in workflow["jobs"].items():
            assert "permissions" in job, f"{path.name}: job {name} inherits permissions"
    jobs = load(DELIVER)["jobs"]
    # Only the image job can get an AWS role, and only it can push code.
    assert [n for n, j in jobs.items() if j["permissions"].get("id-token") == "write"] == ["image"]
    assert [n for n, j in jobs.items() if j["permissions"].get("contents") == "write"] == [
        "deploy-dev"
    ]


def test_delivery_runs_on_pushes_to_main_but_not_on_its_own_pin_commits() -> None:
    triggers = load(DELIVER)["on"]
    assert triggers["push"]["branches"] == ["main"]
    assert "k8s/**" in triggers["push"]["paths-ignore"]
    assert "workflow_dispatch" in triggers


def test_delivery_runs_the_readme_test_command_before_building() -> None:
    jobs = load(DELIVER)["jobs"]
    assert any(step.get("run") == "make test" for step in jobs["test"]["steps"])
    assert "make test" in (REPO / "README.md").read_text(encoding="utf-8")
    assert jobs["image"]["needs"] == "test"
    assert jobs["deploy-dev"]["needs"] == "image"


def test_the_test_job_checks_the_locks_on_the_oldest_python_the_project_claims() -> None:
    spec = importlib.util.spec_from_file_location(
        "check_locks", REPO / "scripts" / "check_locks.py"
    )
    assert spec is not None
    assert spec.loader is not None
    check_locks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check_locks)
    runs = [step.get("run") for step in load(DELIVER)["jobs"]["test"]["steps"]]
    assert runs.index("python3 scripts/check_locks.py") < runs.index("make test")
    claimed = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    assert claimed == f">={check_locks.FLOOR.removesuffix('.0')}"


def test_the_test_job_leaves_the_debian_packages_to_make_test() -> None:
    # make tools installs them (with sudo -n on a runner): one list, in install_tools.py.
    steps = load(DELIVER)["jobs"]["test"]["steps"]
    assert not [step for step in steps if "apt-get" in step.get("run", "")]


def test_the_image_is_pushed_to_ecr_with_an_oidc_role_and_the_commit_as_tag() -> None:
    job = load(DELIVER)["jobs"]["image"]
    by_action = {step["uses"].split("@")[0]: step for step in job["steps"] if "uses" in step}
    credentials = by_action["aws-actions/configure-aws-credentials"]["with"]
    assert "role-to-assume" in credentials
    assert not {"aws-access-key-id", "aws-secret-access-key"} & set(credentials)
    build = by_action["docker/build-push-action"]["with"]
    assert build["push"] is True
    assert build["tags"].endswith(":${{ github.sha }}")
    assert job["outputs"]["digest"] == "${{ steps.build.outputs.digest }}"


def test_delivery_pins_the_file_that_the_dev_application_renders() -> None:
    applications = generate_applications(one(load_objects(), "ApplicationSet"))
    dev = next(a for a in applications if a["metadata"]["name"].endswith("-dev"))
    (values,) = helm_source(dev).value_files
    target = values.relative_to(REPO).as_posix()
    runs = [step.get("run", "") for step in load(DELIVER)["jobs"]["deploy-dev"]["steps"]]
    (pin,) = [run for run in runs if f"scripts/bump_image.py set {target}" in run]
    assert "--forward-only" in pin


def test_promotion_opens_a_pull_request_changing_only_prod() -> None:
    runs = " ".join(step.get("run", "") for step in steps(load(PROMOTE)))
    assert "bump_image.py promote k8s/envs/dev/values.yaml k8s/envs/prod/values.yaml" in runs
    assert "gh pr create --base main" in runs
    assert "push origin HEAD:main" not in runs


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_untrusted_expressions_never_reach_a_shell_directly(path: Path) -> None:
    for step in steps(load(path)):
        assert "${{" not in step.get("run", ""), f"{path.name}: pass values through env:"
