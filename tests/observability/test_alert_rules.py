"""The chart's PrometheusRule: valid, each alert unit-tested by promtool, documented, well aimed."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.observability import chart
from tests.tools import require

HERE = Path(__file__).resolve().parent
UNIT_TESTS = HERE / "alerts_test.yaml"
DOCS = chart.REPO / "docs" / "observability.md"


def rule_groups(*args: str) -> dict[str, Any]:
    """The ``spec`` of the rendered PrometheusRule: a Prometheus rule file."""
    spec: dict[str, Any] = chart.only(chart.render(*args), "PrometheusRule")["spec"]
    return spec


def alerts(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {rule["alert"]: rule for group in spec["groups"] for rule in group["rules"]}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return rule_groups()


@pytest.fixture(scope="module")
def rule_dir(spec: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """rules.yaml (from the chart) beside a copy of alerts_test.yaml, as promtool wants."""
    folder = tmp_path_factory.mktemp("rules")
    (folder / "rules.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    shutil.copy(UNIT_TESTS, folder / UNIT_TESTS.name)
    return folder


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(require("promtool")), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_rendered_rules_pass_promtool_check(rule_dir: Path) -> None:
    result = promtool("check", "rules", "rules.yaml", cwd=rule_dir)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_pass(rule_dir: Path) -> None:
    result = promtool("test", "rules", UNIT_TESTS.name, cwd=rule_dir)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_is_unit_tested_firing_and_not_firing(spec: dict[str, Any]) -> None:
    fires: set[str] = set()
    quiet: set[str] = set()
    for group in yaml.safe_load(UNIT_TESTS.read_text(encoding="utf-8"))["tests"]:
        for case in group.get("alert_rule_test", []):
            (fires if case.get("exp_alerts") else quiet).add(case["alertname"])
    assert set(alerts(spec)) - fires == set(), "alerts never seen firing"
    assert set(alerts(spec)) - quiet == set(), "alerts never seen staying quiet"


def test_every_alert_has_severity_summary_description_and_runbook(spec: dict[str, Any]) -> None:
    for name, rule in alerts(spec).items():
        assert rule["labels"]["severity"] in ("critical", "warning"), name
        assert rule["annotations"]["summary"], name
        assert rule["annotations"]["description"], name
        assert rule["annotations"]["runbook_url"].endswith(f"observability.md#{name.lower()}")


def test_every_runbook_link_names_a_section_of_the_docs(spec: dict[str, Any]) -> None:
    headings = re.findall(r"^#+ (.+)$", DOCS.read_text(encoding="utf-8"), flags=re.MULTILINE)
    anchors = {re.sub(r"[^a-z0-9 _-]", "", h.strip().lower()).replace(" ", "-") for h in headings}
    for name, rule in alerts(spec).items():
        assert rule["annotations"]["runbook_url"].split("#")[1] in anchors, name


def test_rules_aim_at_the_releases_own_service_deployment_and_cronjob() -> None:
    docs = chart.render()
    exprs = " ".join(
        rule["expr"]
        for group in chart.only(docs, "PrometheusRule")["spec"]["groups"]
        for rule in group["rules"]
    )
    service = chart.only(docs, "Service")["metadata"]["name"]
    deployment = chart.only(docs, "Deployment")["metadata"]["name"]
    cronjob = chart.only(docs, "CronJob")["metadata"]["name"]
    # A ServiceMonitor scrape labels series job=<Service name>.
    assert f'job="{service}"' in exprs
    assert f'deployment="{deployment}"' in exprs
    assert f'pod=~"{deployment}-' in exprs
    assert f'cronjob="{cronjob}"' in exprs
    assert f'owner_name="{cronjob}"' in exprs


def test_thresholds_and_windows_come_from_values() -> None:
    spec = rule_groups(
        "--set-json",
        "prometheusRule.errorRatio.threshold=0.2",
        "--set",
        "prometheusRule.latencyP99.thresholdSeconds=7",
        "--set",
        "prometheusRule.ingestNoSuccess.windowHours=48",
        "--set",
        "prometheusRule.dataFreshness.maxAgeHours=72",
        "--set",
        "prometheusRule.podNotReady.severity=critical",
    )
    rules = alerts(spec)
    assert ") > 0.2" in rules["WeatherWarehouseApiHighErrorRatio"]["expr"]
    assert ") > 7" in rules["WeatherWarehouseApiHighLatency"]["expr"]
    assert "> 172800" in rules["WeatherWarehouseIngestNoRecentSuccess"]["expr"]
    assert "> 172800" in rules["WeatherWarehouseIngestCronJobNoRecentSuccess"]["expr"]
    assert "> 259200" in rules["WeatherWarehouseDataStale"]["expr"]
    assert rules["WeatherWarehouseApiPodNotReady"]["labels"]["severity"] == "critical"


def test_pushgateway_alerts_exist_only_when_the_job_pushes() -> None:
    rules = alerts(rule_groups("--set", "ingest.pushgatewayUrl="))
    assert "WeatherWarehouseIngestFailed" not in rules
    assert "WeatherWarehouseIngestNoRecentSuccess" not in rules
    assert "WeatherWarehouseIngestJobFailed" in rules


def test_no_rule_without_the_prometheus_operator_api() -> None:
    assert chart.objects(chart.render(operator_api=False), "PrometheusRule") == []


def test_no_rule_when_disabled() -> None:
    docs = chart.render("--set", "prometheusRule.enabled=false")
    assert chart.objects(docs, "PrometheusRule") == []


def test_extra_labels_reach_the_rule_for_the_prometheus_rule_selector() -> None:
    rule = chart.only(chart.render("--set", "prometheusRule.labels.release=kps"), "PrometheusRule")
    assert rule["metadata"]["labels"]["release"] == "kps"
    assert rule["metadata"]["namespace"] == chart.NAMESPACE


def test_every_runbook_says_meaning_impact_diagnosis_and_mitigation(spec: dict[str, Any]) -> None:
    text = DOCS.read_text(encoding="utf-8")
    for name in alerts(spec):
        section = text.split(f"\n### {name}\n", 1)[1].split("\n#", 1)[0]
        for part in ("**Meaning.**", "**Impact.**", "**Diagnosis.**", "**Mitigation.**"):
            assert part in section, (name, part)


def test_docs_alert_table_lists_every_alert_with_its_severity(spec: dict[str, Any]) -> None:
    text = DOCS.read_text(encoding="utf-8")
    for name, rule in alerts(spec).items():
        assert f"| {name} | {rule['labels']['severity']} |" in text, name


def test_no_ingest_alerts_when_the_release_runs_no_ingest_job() -> None:
    spec = rule_groups("--set", "ingest.enabled=false")
    assert [name for name in alerts(spec) if "Ingest" in name] == []
    assert "WeatherWarehouseDataStale" in alerts(spec)
