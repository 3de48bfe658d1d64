"""The dashboard and the alert rules read only metrics apiforge exports (the contract in
tests/deploy/promql.py, kept by apiforge.kit.metrics) or series the rules record; every
dashboard query is valid PromQL (checked by promtool as a throwaway rule file)."""

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no type stubs and the lock has none

from tests.deploy.manifests import DEPLOY, load_yaml
from tests.deploy.promql import CONTRACT, contract_metric, metric_names
from tests.deploy.toolchain import promtool

DASHBOARD = DEPLOY / "grafana" / "dashboards" / "apiforge.json"
ALERTS = DEPLOY / "prometheus" / "alerts.yaml"
# What Grafana substitutes before a query reaches Prometheus.
GRAFANA_VARIABLES = {
    "$__rate_interval": "1m",
    "$__interval": "1m",
    "$__range": "1h",
    "$route": ".*",
}


def _panel_queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [
        target["expr"]
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
        if "expr" in target
    ]


def _template_queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    queries = []
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            queries.append(variable["definition"])
    return queries


def _rules() -> list[dict[str, Any]]:
    return [rule for group in load_yaml(ALERTS)["groups"] for rule in group["rules"]]


def _recorded() -> set[str]:
    return {rule["record"] for rule in _rules() if "record" in rule}


def _unknown(expr: str) -> set[str]:
    return {
        name
        for name in metric_names(expr)
        if contract_metric(name) is None and name not in _recorded()
    }


def test_metric_name_extraction_sees_through_promql() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (route, le) (rate(a_bucket{route=~"x|y",le="0.25"}'
        "[5m]))) / on (instance) group_left (version) b_info > 1e3 and c:ratio offset 5m"
    )
    assert metric_names(expr) == {"a_bucket", "b_info", "c:ratio"}
    assert contract_metric("apiforge_http_request_duration_seconds_bucket") is not None
    assert contract_metric("apiforge_http_requests_total_bucket") is None


@pytest.mark.parametrize("expr", _panel_queries())
def test_dashboard_queries_read_contract_metrics(expr: str) -> None:
    assert metric_names(expr), expr
    assert _unknown(expr) == set()


def test_dashboard_variables_read_contract_metrics() -> None:
    for query in _template_queries():
        inner = query.removeprefix("label_values(").removesuffix(")")
        name = inner.split(",")[0].strip()
        assert name in CONTRACT, query


@pytest.mark.parametrize(
    "rule", _rules(), ids=lambda rule: str(rule.get("record") or rule.get("alert"))
)
def test_rules_read_contract_metrics(rule: dict[str, Any]) -> None:
    assert _unknown(rule["expr"]) == set()


def test_every_contract_metric_is_on_the_dashboard() -> None:
    shown = {contract_metric(name) for expr in _panel_queries() for name in metric_names(expr)}
    assert set(CONTRACT) <= shown


def test_dashboard_queries_are_valid_promql(tmp_path: Path) -> None:
    rules = []
    for index, expr in enumerate(_panel_queries()):
        for variable, value in GRAFANA_VARIABLES.items():
            expr = expr.replace(variable, value)
        assert "$" not in expr, f"unknown Grafana variable in {expr}"
        rules.append({"record": f"dashboard:query:{index}", "expr": expr})
    path = tmp_path / "dashboard-queries.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = subprocess.run(  # noqa: S603  # promtool from PATH on a file we wrote
        [promtool(), "check", "rules", str(path)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
