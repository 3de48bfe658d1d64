"""Results and reports: medians across rounds, ratios, verdicts, and the three files."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apiforge.bench.openloop import summarize
from apiforge.bench.report import markdown, write_reports
from apiforge.bench.results import ScenarioResult, TargetRun
from apiforge.bench.scenario import Scenario
from apiforge.bench.wrk import WrkResult

SCENARIO = Scenario.model_validate(
    {
        "name": "catalog",
        "description": "Reads.",
        "requests": [{"name": "list", "path": "/api/products", "weight": 3}],
        "rate": 100,
    }
)


def _wrk(requests: int, p99: float, non_2xx: int = 0) -> WrkResult:
    errors = {"connect": 0, "read": 0, "write": 0, "status": non_2xx, "timeout": 0}
    latency = {"p50": p99 / 10, "p95": p99 / 2, "p99": p99, "max": p99 * 2}
    return WrkResult(requests, 1.0, errors, non_2xx, latency)


def _document(shop_open: bool = True) -> dict[str, Any]:
    baseline = TargetRun("baseline", "http://b", rounds=[_wrk(10_000, 5), _wrk(12_000, 7)])
    shop = TargetRun("shop", "http://s", rounds=[_wrk(1_000, 40, non_2xx=1), _wrk(3_000, 60)])
    if shop_open:
        shop.open_loop = summarize([], rate=100, duration=1, late=0, max_lag_s=0)
        shop.open_loop.latency_ms = {"p50": 4.0, "p99": 250.0, "max": 300.0}
        shop.open_loop.per_endpoint = {"list": shop.open_loop.latency_ms}
        shop.open_loop.sent = shop.open_loop.ok = 100
    shop.notes.append("restock: 1 of 50 products not updated")
    shop.background = [summarize([], rate=2, duration=1, late=0, max_lag_s=0)]
    result = ScenarioResult.start(SCENARIO, 2, 1.0, 64, 1, 0.0)
    result.versions = {"python": "3.11.7", "postgres": None}
    result.machine = {"cores": 2, "cpu_model": "Test CPU", "pinning": True}
    result.finish([baseline, shop])
    return result.to_json()


def test_medians_ratio_and_verdict() -> None:
    doc = _document()
    baseline, shop = doc["targets"]["baseline"], doc["targets"]["shop"]
    assert baseline["rps"] == 11_000
    assert baseline["ratio_to_baseline"] == 1.0
    assert shop["rps"] == (999 + 3000) / 2
    assert shop["ratio_to_baseline"] == shop["rps"] / 11_000
    assert shop["latency_ms"]["p99"] == 50.0
    assert shop["non_2xx"] == 1
    assert shop["errors"]["status"] == 1
    # The verdict is the shop's at the stated rate: the open loop's p99 of 250 ms fails.
    assert doc["verdict"]["target"] == "shop"
    assert doc["verdict"]["passed"] is False
    assert doc["verdict"]["reasons"] == ["p99 250.0 ms >= 200 ms"]


def test_without_an_open_loop_the_closed_loop_is_judged() -> None:
    doc = _document(shop_open=False)
    assert doc["verdict"]["p99_ms"] == 50.0
    assert doc["verdict"]["error_rate"] == 0.5 * (1 / 1000)  # the median of the rounds'


def test_the_three_files(tmp_path: Path) -> None:
    doc = _document()
    written = write_reports([doc], tmp_path / "out", datetime(2026, 11, 21, 12, 0, tzinfo=UTC))
    saved = json.loads(written["catalog"].read_text())
    assert written["catalog"].name == "20261121T120000Z-catalog.json"
    for key in (
        "scenario",
        "targets",
        "endpoints",
        "settings",
        "slo",
        "verdict",
        "versions",
        "machine",
    ):
        assert key in saved
    assert saved["endpoints"] == [
        {"name": "list", "method": "GET", "path": "/api/products", "weight": 3}
    ]
    for field in ("rps", "latency_ms", "errors", "non_2xx", "ratio_to_baseline", "open_loop"):
        assert field in saved["targets"]["shop"]
    summary = written["markdown"].read_text()
    assert "## catalog: FAIL: p99 250.0 ms >= 200 ms" in summary
    assert "| shop | 2,000 |" in summary
    assert "- shop: restock: 1 of 50 products not updated" in summary
    assert "- shop: background 0 requests alongside, p99 0.0 ms, 0 errors" in summary
    page = written["html"].read_text()
    assert page.count("<svg") == 3  # req/s, closed-loop percentiles, open-loop per endpoint
    assert "http" not in page.split("<svg", 1)[0].lower()  # nothing fetched from elsewhere
    assert "Test CPU" in page


def test_markdown_of_nothing() -> None:
    assert markdown([]) == "# apiforge bench\n"
