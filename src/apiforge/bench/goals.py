"""The issue's performance targets, checked across a run's scenario documents: each goal
becomes a row (scenario, goal, measured, met), for the summary and BENCHMARKS.md."""

from dataclasses import dataclass
from typing import Any

SHOP = "shop"


@dataclass(frozen=True)
class GoalRow:
    scenario: str
    goal: str
    measured: str
    met: bool | None  # None: not measurable in this run (a scenario or a target missing)


def _shop(doc: dict[str, Any]) -> dict[str, Any] | None:
    target: dict[str, Any] | None = doc["targets"].get(SHOP)
    return target if target and target.get("rounds") else None


def _absolute(name: str, goals: dict[str, Any], shop: dict[str, Any]) -> list[GoalRow]:
    rows = []
    if "min_ratio" in goals:
        ratio = shop.get("ratio_to_baseline")
        measured = "-" if ratio is None else f"{ratio:.3f}x"
        met = None if ratio is None else ratio >= goals["min_ratio"]
        rows.append(GoalRow(name, f">= {goals['min_ratio']:g}x baseline", measured, met))
    if "max_p99_ms" in goals:
        p99 = shop["latency_ms"].get("p99", 0.0)
        met = p99 < goals["max_p99_ms"]
        rows.append(GoalRow(name, f"p99 < {goals['max_p99_ms']:g} ms", f"{p99:.1f} ms", met))
    if "max_errors" in goals:
        errors = shop["non_2xx"] + sum(v for k, v in shop["errors"].items() if k != "status")
        met = errors <= goals["max_errors"]
        rows.append(GoalRow(name, f"errors <= {goals['max_errors']}", str(errors), met))
    return rows


def _relative(
    name: str, goals: dict[str, Any], shop: dict[str, Any], other: dict[str, Any] | None
) -> list[GoalRow]:
    rows = []
    base = goals["compare_to"]
    if "max_rps_drop" in goals:
        goal = f"req/s within {goals['max_rps_drop']:.0%} of {base}"
        if other is None or not other["rps"]:
            rows.append(GoalRow(name, goal, f"{base} not measured", None))
        else:
            drop = 1 - shop["rps"] / other["rps"]
            rows.append(GoalRow(name, goal, f"{-drop:+.1%}", drop <= goals["max_rps_drop"]))
    if "max_p99_increase" in goals:
        goal = f"p99 at most +{goals['max_p99_increase']:.0%} over {base}"
        base_p99 = None if other is None else other["latency_ms"].get("p99")
        if not base_p99:
            rows.append(GoalRow(name, goal, f"{base} not measured", None))
        else:
            rise = shop["latency_ms"].get("p99", 0.0) / base_p99 - 1
            rows.append(GoalRow(name, goal, f"{rise:+.1%}", rise <= goals["max_p99_increase"]))
    return rows


def evaluate(docs: list[dict[str, Any]]) -> list[GoalRow]:
    by_name = {d["scenario"]: d for d in docs}
    rows: list[GoalRow] = []
    for doc in docs:
        goals = doc.get("goals")
        if not goals:
            continue
        shop = _shop(doc)
        if shop is None:
            rows.append(GoalRow(doc["scenario"], "any", "no closed-loop run of the shop", None))
            continue
        rows += _absolute(doc["scenario"], goals, shop)
        if "compare_to" in goals:
            other_doc = by_name.get(goals["compare_to"])
            other = None if other_doc is None else _shop(other_doc)
            rows += _relative(doc["scenario"], goals, shop, other)
    return rows


def markdown_table(rows: list[GoalRow]) -> list[str]:
    if not rows:
        return []
    verdict = {True: "met", False: "**missed**", None: "n/a"}
    return [
        "## Targets (issue 3)",
        "",
        "| scenario | target | measured | |",
        "|---|---|---:|---|",
        *(f"| {r.scenario} | {r.goal} | {r.measured} | {verdict[r.met]} |" for r in rows),
        "",
    ]
