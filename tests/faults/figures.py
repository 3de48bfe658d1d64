"""Where the fault tests leave what they measured: one JSON file per scenario under
build/reliability/ (ignored by git), also printed (`pytest -s` shows it). RELIABILITY.md quotes
these; the tests assert behaviour bounds, never these figures."""

import json
from pathlib import Path

FIGURES_DIR = Path(__file__).parents[2] / "build" / "reliability"


def record(scenario: str, figures: dict[str, object]) -> None:
    FIGURES_DIR.mkdir(parents=True, exist_ok=True)
    text = json.dumps(figures, indent=2, sort_keys=True)
    (FIGURES_DIR / f"{scenario}.json").write_text(text + "\n")
    print(f"\n{scenario}: {text}")  # the figures, for `pytest -s`
