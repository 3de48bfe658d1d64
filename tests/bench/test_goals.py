"""The scenarios' goals, checked across a run's documents."""

from dataclasses import replace
from typing import Any

import pytest
from pydantic import ValidationError

from apiforge.bench.document import ScenarioDocument
from apiforge.bench.goals import GoalRow, evaluate
from apiforge.bench.scenario import Goals
from tests.bench.factories import document, target

BASE = document()


def _doc(
    name: str, goals: dict[str, Any] | None, rps: float, p99: float, **extra: Any
) -> ScenarioDocument:
    shop = target(rps, p99, **extra)
    return replace(
        BASE,
        scenario=name,
        goals=None if goals is None else Goals.model_validate(goals),
        targets={"baseline": BASE.targets["baseline"], "shop": shop},
    )


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


def test_an_empty_goals_table_sets_none() -> None:
    assert evaluate([_doc("list", {}, 0, 0.0)]) == []


def test_a_relative_goal_needs_a_scenario() -> None:
    with pytest.raises(ValidationError, match="need compare_to"):
        Goals(max_rps_drop=0.1)


def test_a_goal_over_the_db_baseline() -> None:
    doc = _doc("detail", {"min_db_ratio": 0.6}, 1000, 50.0)
    assert evaluate([doc]) == [GoalRow("detail", ">= 0.6x db baseline", "-", None)]
    doc.targets["shop"].ratio_to_db = 0.5
    assert evaluate([doc]) == [GoalRow("detail", ">= 0.6x db baseline", "0.500x", False)]
