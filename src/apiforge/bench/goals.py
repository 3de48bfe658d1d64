"""The scenarios' performance goals (`[goals]` in a scenario file), checked across a run's
documents: each goal becomes a row (scenario, goal, measured, met), for the summary and
BENCHMARKS.md."""

from dataclasses import dataclass

from apiforge.bench.document import ScenarioDocument, TargetSummary
from apiforge.bench.scenario import Goals

SHOP = "shop"


@dataclass(frozen=True)
class GoalRow:
    scenario: str
    goal: str
    measured: str
    met: bool | None  # None: not measurable in this run (a scenario or a target missing)


def _shop(doc: ScenarioDocument) -> TargetSummary | None:
    target = doc.targets.get(SHOP)
    return target if target is not None and target.rounds else None


def _absolute(name: str, goals: Goals, shop: TargetSummary) -> list[GoalRow]:
    rows = []
    if goals.min_ratio is not None:
        ratio = shop.ratio_to_baseline
        measured = "-" if ratio is None else f"{ratio:.3f}x"
        met = None if ratio is None else ratio >= goals.min_ratio
        rows.append(GoalRow(name, f">= {goals.min_ratio:g}x baseline", measured, met))
    if goals.min_db_ratio is not None:
        ratio = shop.ratio_to_db
        measured = "-" if ratio is None else f"{ratio:.3f}x"
        met = None if ratio is None else ratio >= goals.min_db_ratio
        rows.append(GoalRow(name, f">= {goals.min_db_ratio:g}x db baseline", measured, met))
    if goals.max_p99_ms is not None:
        p99 = shop.latency_ms.get("p99", 0.0)
        met = p99 < goals.max_p99_ms
        rows.append(GoalRow(name, f"p99 < {goals.max_p99_ms:g} ms", f"{p99:.1f} ms", met))
    if goals.max_errors is not None:
        errors = shop.error_count
        met = errors <= goals.max_errors
        rows.append(GoalRow(name, f"errors <= {goals.max_errors}", str(errors), met))
    return rows


def _relative(
    name: str, goals: Goals, base: str, shop: TargetSummary, other: TargetSummary | None
) -> list[GoalRow]:
    rows = []
    if goals.max_rps_drop is not None:
        goal = f"req/s within {goals.max_rps_drop:.0%} of {base}"
        if other is None or not other.rps:
            rows.append(GoalRow(name, goal, f"{base} not measured", None))
        else:
            drop = 1 - shop.rps / other.rps
            rows.append(GoalRow(name, goal, f"{-drop:+.1%}", drop <= goals.max_rps_drop))
    if goals.max_p99_increase is not None:
        goal = f"p99 at most +{goals.max_p99_increase:.0%} over {base}"
        base_p99 = None if other is None else other.latency_ms.get("p99")
        if not base_p99:
            rows.append(GoalRow(name, goal, f"{base} not measured", None))
        else:
            rise = shop.latency_ms.get("p99", 0.0) / base_p99 - 1
            rows.append(GoalRow(name, goal, f"{rise:+.1%}", rise <= goals.max_p99_increase))
    return rows


def evaluate(docs: list[ScenarioDocument]) -> list[GoalRow]:
    by_name = {d.scenario: d for d in docs}
    rows: list[GoalRow] = []
    for doc in docs:
        goals = doc.goals
        if goals is None or goals == Goals():  # an empty [goals] table sets none
            continue
        shop = _shop(doc)
        if shop is None:
            rows.append(GoalRow(doc.scenario, "any", "no closed-loop run of the shop", None))
            continue
        rows += _absolute(doc.scenario, goals, shop)
        if goals.compare_to is not None:
            other_doc = by_name.get(goals.compare_to)
            other = None if other_doc is None else _shop(other_doc)
            rows += _relative(doc.scenario, goals, goals.compare_to, shop, other)
    return rows
