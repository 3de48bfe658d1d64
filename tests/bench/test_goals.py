"""Issue targets from the scenario files, checked across a run's documents."""

from typing import Any

import pytest
from pydantic import ValidationError

from apiforge.bench.goals import GoalRow, evaluate, markdown_table
from apiforge.bench.scenario import Goals


def _doc(
    name: str, goals: dict[str, Any] | None, rps: float, p99: float, **extra: Any
) -> dict[str, Any]:
    shop = {
        "rps": rps,
        "latency_ms": {"p99": p99},
        "ratio_to_baseline": extra.get("ratio"),
        "non_2xx": extra.get("non_2xx", 0),
        "errors": {"read": extra.get("read", 0), "status": extra.get("non_2xx", 0)},
        "rounds": [{}] if rps else [],
    }
    return {"scenario": name, "goals": goals, "targets": {"baseline": {}, "shop": shop}}


def test_absolute_goals() -> None:
    docs = [
        _doc("list", {"min_ratio": 0.9, "max_p99_ms": 20}, 9000, 25.0, ratio=0.95),
        _doc("orders", {"min_ratio": 0.15, "max_errors": 0}, 1000, 50.0, ratio=0.1, read=2),
    ]
    assert evaluate(docs) == [
        GoalRow("list", ">= 0.9x baseline", "0.950x", True),
        GoalRow("list", "p99 < 20 ms", "25.0 ms", False),
        GoalRow("orders", ">= 0.15x baseline", "0.100x", False),
        GoalRow("orders", "errors <= 0", "2", False),
    ]


def test_relative_goals() -> None:
    catalog = _doc("catalog", None, 1000, 100.0)
    wide = _doc("wide", {"compare_to": "catalog", "max_rps_drop": 0.15}, 900, 900.0)
    logins = _doc("logins", {"compare_to": "catalog", "max_p99_increase": 0.2}, 1000, 130.0)
    assert evaluate([catalog, wide, logins]) == [
        GoalRow("wide", "req/s within 15% of catalog", "-10.0%", True),
        GoalRow("logins", "p99 at most +20% over catalog", "+30.0%", False),
    ]
    # Without the scenario compared to, the goal cannot be judged.
    assert [r.met for r in evaluate([wide, logins])] == [None, None]


def test_a_shop_without_closed_loop_rounds_is_not_judged() -> None:
    rows = evaluate([_doc("list", {"min_ratio": 0.9}, 0, 0.0)])
    assert rows == [GoalRow("list", "any", "no closed-loop run of the shop", None)]
    assert evaluate([_doc("x", None, 1, 1.0)]) == []


def test_the_table() -> None:
    rows = [
        GoalRow("a", "g", "1", True),
        GoalRow("b", "g", "2", False),
        GoalRow("c", "g", "-", None),
    ]
    table = "\n".join(markdown_table(rows))
    assert "| a | g | 1 | met |" in table
    assert "| b | g | 2 | **missed** |" in table
    assert "| c | g | - | n/a |" in table
    assert markdown_table([]) == []


def test_a_relative_goal_needs_a_scenario() -> None:
    with pytest.raises(ValidationError, match="need compare_to"):
        Goals(max_rps_drop=0.1)
