"""deploy/prometheus: the rules pass `promtool check rules`, their unit tests
(alerts.test.yaml) pass `promtool test rules`, the compose scrape config passes
`promtool check config`; the SLO rules have every burn-rate window and routing label."""

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.manifests import DEPLOY, load_yaml
from tests.deploy.toolchain import promtool

PROMETHEUS = DEPLOY / "prometheus"
ALERTS = PROMETHEUS / "alerts.yaml"
# The SRE workbook's windows for a 30-day SLO: 5m/1h and 30m/6h page, 2h/1d and 6h/3d ticket.
WINDOWS = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]
SLIS = ["apiforge:http_errors", "apiforge:http_slow"]
SEVERITIES = {"page", "ticket", "warning"}
PROMTOOL_TIMEOUT_SECONDS = 300


def _promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(  # noqa: S603  # promtool from PATH, our own files
        [promtool(), *map(str, args)],
        check=False,
        capture_output=True,
        text=True,
        cwd=PROMETHEUS,
        timeout=PROMTOOL_TIMEOUT_SECONDS,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _rules() -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = load_yaml(ALERTS)["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_rules_pass_promtool_check() -> None:
    result = _promtool("check", "rules", ALERTS)
    assert "SUCCESS" in result.stdout


def test_rule_unit_tests_pass() -> None:
    result = _promtool("test", "rules", PROMETHEUS / "alerts.test.yaml")
    assert "SUCCESS" in result.stdout


def test_compose_prometheus_config_passes_promtool_check() -> None:
    _promtool("check", "config", PROMETHEUS / "prometheus.yml")


def test_rules_checked_by_promtool_are_the_ones_prometheus_loads() -> None:
    config = load_yaml(PROMETHEUS / "prometheus.yml")
    assert config["rule_files"] == [ALERTS.name]
    assert load_yaml(PROMETHEUS / "alerts.test.yaml")["rule_files"] == [ALERTS.name]


def test_every_burn_rate_window_is_recorded() -> None:
    recorded = {rule["record"] for rule in _rules() if "record" in rule}
    expected = {f"{sli}:ratio_rate{window}" for sli in SLIS for window in WINDOWS}
    assert expected <= recorded


def test_alerts_carry_routing_labels_and_a_summary() -> None:
    alerts = [rule for rule in _rules() if "alert" in rule]
    assert alerts
    for alert in alerts:
        assert alert["labels"]["severity"] in SEVERITIES, alert["alert"]
        assert alert["annotations"]["summary"], alert["alert"]
        assert alert["annotations"]["description"], alert["alert"]
    slo_alerts = {(a["labels"].get("slo"), a["labels"]["severity"]) for a in alerts}
    for slo in ("availability", "latency"):
        assert {(slo, "page"), (slo, "ticket")} <= slo_alerts


def test_every_alert_has_a_unit_test() -> None:
    tests = load_yaml(PROMETHEUS / "alerts.test.yaml")["tests"]
    cases = [case for test in tests for case in test.get("alert_rule_test", [])]
    tested = {case["alertname"] for case in cases}
    firing = {case["alertname"] for case in cases if case.get("exp_alerts")}
    alerts = {rule["alert"] for rule in _rules() if "alert" in rule}
    assert tested == alerts
    assert firing == alerts, "each alert needs a case where it fires"


@pytest.mark.parametrize("window", WINDOWS)
def test_latency_sli_reads_the_250ms_bucket(window: str) -> None:
    (rule,) = [r for r in _rules() if r.get("record") == f"apiforge:http_slow:ratio_rate{window}"]
    assert 'le="0.25"' in rule["expr"]
    assert f"[{window}]" in rule["expr"]
