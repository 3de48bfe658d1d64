"""Results and reports: medians across rounds, ratios, verdicts, and the three files."""

import json
from datetime import UTC, datetime
from pathlib import Path

from apiforge.bench.report import markdown, write_reports
from tests.bench.factories import document, scenario


def test_medians_ratio_and_verdict() -> None:
    doc = document().to_json()
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
    doc = document(shop_open=False)
    assert doc.verdict is not None
    assert doc.verdict.open_loop is False
    assert doc.verdict.verdict.p99_ms == 50.0
    assert doc.verdict.verdict.error_rate == 0.5 * (1 / 1000)  # the median of the rounds'
    assert "judged on the shop's closed-loop medians (wrk)" in markdown([doc])


def test_the_three_files(tmp_path: Path) -> None:
    doc = document()
    written = write_reports([doc], tmp_path / "out", datetime(2026, 11, 21, 12, 0, tzinfo=UTC))
    saved = json.loads(written["catalog"].read_text())
    assert written["catalog"].name == "20261121T120000Z-catalog.json"
    assert list(saved) == [
        "scenario", "description", "started_at", "settings", "endpoints", "slo", "goals",
        "targets", "verdict", "versions", "machine",
    ]  # fmt: skip
    assert saved["endpoints"] == [
        {"name": "list", "method": "GET", "path": "/api/products", "weight": 3}
    ]
    assert list(saved["targets"]["shop"]) == [
        "url", "rps", "rps_rounds", "latency_ms", "requests", "errors", "non_2xx", "error_rate",
        "ratio_to_baseline", "rounds", "open_loop", "slo", "background", "notes",
    ]  # fmt: skip
    summary = written["markdown"].read_text()
    assert "## catalog: FAIL: p99 250.0 ms >= 200 ms" in summary
    assert "| shop | 2,000 |" in summary
    assert "- shop: restock: 1 of 50 products not updated" in summary
    assert "- shop: background 0 requests alongside, p99 0.0 ms, 0 errors" in summary
    page = written["html"].read_text()
    assert page.count("<svg") == 3  # req/s, closed-loop percentiles, open-loop per endpoint
    assert "http" not in page.split("<svg", 1)[0].lower()  # nothing fetched from elsewhere
    assert "Test CPU" in page


def test_the_caveat_follows_the_heading_it_qualifies() -> None:
    lines = markdown([document(fell_behind=True)]).splitlines()
    heading = lines.index("## catalog: FAIL: p99 250.0 ms >= 200 ms")
    caveat = lines[heading + 2]
    assert caveat.startswith("> **Upper bounds.** The open-loop generator fell behind")
    assert "shop: 40 of 100 requests sent late, up to 85 ms" in caveat
    assert "This FAIL rests on them" in caveat
    assert "fell behind" not in markdown([document()])


def test_the_baseline_is_said_in_one_sentence() -> None:
    bare = markdown([document()])
    assert "The baseline is a bare FastAPI app on Uvicorn serving the shop's JSON shapes" in bare
    machine: dict[str, object] = {
        "baseline": "shop: APIFORGE_ACCESS_LOG=false",
        "shop_env": "defaults",
    }
    second_shop = markdown([document(machine=machine)])
    assert "The baseline is a second copy of the shop" in second_shop
    assert "(APIFORGE_ACCESS_LOG=false; the shop under test: defaults)" in second_shop
    given = markdown([document(machine={"baseline": "given: http://10.0.0.5:9000"})])
    assert "The baseline is the server at http://10.0.0.5:9000" in given


def test_goals_under_their_own_heading_without_tracker_references() -> None:
    with_goals = scenario(goals={"min_ratio": 0.9, "max_p99_ms": 20})
    summary = markdown([document(scenario_=with_goals)])
    assert "## Performance goals" in summary
    assert "| catalog | >= 0.9x baseline | 0.182x | **missed** |" in summary
    assert "issue" not in summary.lower()


def test_markdown_of_nothing() -> None:
    assert markdown([]) == "# apiforge bench\n"
