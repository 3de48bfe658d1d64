"""Writes a run's results: one JSON file per scenario, a Markdown summary and an HTML report
with inline SVG plots, all under the output directory with the run's timestamp."""

import json
from datetime import datetime
from pathlib import Path

from apiforge.bench.document import ScenarioDocument
from apiforge.bench.goals import evaluate
from apiforge.bench.page import html
from apiforge.bench.summary import (
    GOALS_NOTE,
    about_baseline,
    about_load,
    about_run,
    caveat,
    goals_table,
    notes,
    targets_table,
    verdict_text,
)


def markdown(docs: list[ScenarioDocument]) -> str:
    lines = ["# apiforge bench", ""]
    lines += [f"{p}\n" for p in (about_run(docs), about_baseline(docs)) if p]
    for doc in docs:
        lines += [f"## {doc.scenario}: {verdict_text(doc)}", ""]
        warning = caveat(doc)
        if warning:
            lines += [f"> **Upper bounds.** {warning}", ""]
        lines += [about_load(doc), "", *targets_table(doc).markdown(), ""]
        listed = notes(doc)
        lines += [f"- {note}" for note in listed] + ([""] if listed else [])
    goals = goals_table(evaluate(docs))
    if goals is not None:
        lines += ["## Performance goals", "", GOALS_NOTE, "", *goals.markdown(), ""]
    return "\n".join(lines).rstrip() + "\n"


def write_reports(docs: list[ScenarioDocument], out: Path, stamp: datetime) -> dict[str, Path]:
    """Files written, by kind: `<stamp>-<scenario>.json` each, `<stamp>-summary.md`/`.html`."""
    out.mkdir(parents=True, exist_ok=True)
    prefix = stamp.strftime("%Y%m%dT%H%M%SZ")
    written: dict[str, Path] = {}
    for doc in docs:
        path = out / f"{prefix}-{doc.scenario}.json"
        path.write_text(json.dumps(doc.to_json(), indent=2, sort_keys=False) + "\n")
        written[doc.scenario] = path
    written["markdown"] = out / f"{prefix}-summary.md"
    written["markdown"].write_text(markdown(docs))
    written["html"] = out / f"{prefix}-summary.html"
    written["html"].write_text(html(docs))
    return written
