"""The HTML report of a run: per scenario the verdict and its caveat, the charts and the
figures as real tables; one self-contained page (inline CSS and SVG, nothing fetched)."""

from html import escape

from apiforge.bench.charts import Bar, Group, Marker, bar_chart, palette
from apiforge.bench.document import ScenarioDocument
from apiforge.bench.goals import evaluate
from apiforge.bench.results import BASELINE
from apiforge.bench.summary import (
    GOALS_NOTE,
    about_baseline,
    about_load,
    about_run,
    caveat,
    goals_table,
    notes,
    targets_table,
)

PLOTTED = ("p50", "p95", "p99")

STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:920px;margin:2em auto;padding:0 1em;"
    "color:#222;line-height:1.45}"
    "h2{margin-top:2.2em;border-bottom:1px solid #ddd;padding-bottom:.2em}"
    ".pass{color:#1a7f37}.fail{color:#c62828}"
    ".verdict{font-size:1.05em;margin:.3em 0}"
    ".caveat{background:#fff4d6;border-left:4px solid #e0a800;padding:.5em .8em;margin:.6em 0}"
    ".baseline{background:#f3f6fa;border-left:4px solid #9a9a9a;padding:.5em .8em}"
    "table{border-collapse:collapse;margin:.8em 0;font-size:.92em}"
    "th,td{border-bottom:1px solid #e3e3e3;padding:.3em .6em;text-align:left;"
    "white-space:nowrap}th{background:#f6f6f6}.num{text-align:right;"
    "font-variant-numeric:tabular-nums}"
    "td strong{color:#c62828}"
    "svg{display:block;margin:1.2em 0;max-width:100%;height:auto}"
)


def _slo_markers(doc: ScenarioDocument, percentile: str) -> tuple[Marker, ...]:
    slo = {"p50": doc.slo.p50_ms, "p99": doc.slo.p99_ms}.get(percentile)
    if slo is None:
        return ()
    return (Marker(slo, f"SLO {percentile} < {slo:g} ms"),)


def _goal_markers(doc: ScenarioDocument, percentile: str) -> tuple[Marker, ...]:
    """The p99 goal: checked on the closed-loop medians, so drawn on that chart only."""
    goal = None if doc.goals is None else doc.goals.max_p99_ms
    if percentile != "p99" or goal is None:
        return ()
    return (Marker(goal, f"goal p99 < {goal:g} ms", kind="goal"),)


def _closed_charts(doc: ScenarioDocument, colors: dict[str, str]) -> list[str]:
    targets = doc.targets
    if not any(t.rounds for t in targets.values()):
        return []
    ratios = {
        n: f"{t.ratio_to_baseline:.2f}x the baseline"
        for n, t in targets.items()
        if t.ratio_to_baseline is not None and n != BASELINE
    }
    throughput = Group("", [Bar(n, t.rps, ratios.get(n, "")) for n, t in targets.items()])
    latency = [
        Group(
            p,
            [Bar(n, t.latency_ms.get(p, 0.0)) for n, t in targets.items()],
            _slo_markers(doc, p) + _goal_markers(doc, p),
        )
        for p in PLOTTED
    ]
    title = f"Latency, closed loop (wrk, {doc.settings.connections} connections, median of rounds)"
    return [
        bar_chart("Throughput (closed loop, median of rounds)", [throughput], "req/s", colors),
        bar_chart(title, latency, "ms", colors),
    ]


def _open_charts(doc: ScenarioDocument, colors: dict[str, str]) -> list[str]:
    runs = {n: t.open_loop for n, t in doc.targets.items() if t.open_loop is not None}
    endpoints = dict.fromkeys(e for run in runs.values() for e in run.per_endpoint)
    if not endpoints:
        return []
    groups = [
        Group(
            p,
            [
                Bar(n, run.per_endpoint[e].get(p, 0.0))
                for n, run in runs.items()
                if e in run.per_endpoint
            ],
            _slo_markers(doc, p),
            heading=e if i == 0 else "",
        )
        for e in endpoints
        for i, p in enumerate(PLOTTED)
    ]
    parts = []
    behind = [n for n, run in runs.items() if run.fell_behind]
    if behind:
        parts.append(
            '<p class="caveat" role="note"><strong>Upper bounds:</strong> the open-loop '
            f"generator fell behind its schedule on {escape(', '.join(behind))}.</p>"
        )
    title = f"Latency per endpoint, open loop (at {doc.settings.rate:g} req/s: what the SLO judges)"
    return [*parts, bar_chart(title, groups, "ms", colors)]


def _caveat(text: str | None) -> str:
    if text is None:
        return ""
    return f'<p class="caveat" role="note"><strong>Upper bounds.</strong> {escape(text)}</p>'


def _heading(doc: ScenarioDocument) -> str:
    """The verdict, then why it failed."""
    verdict = doc.verdict
    name = escape(doc.scenario)
    if verdict is None:
        return f"<h2>{name}: n/a</h2>"
    if verdict.verdict.passed:
        return f'<h2>{name}: <span class="pass">PASS</span></h2>'
    reasons = escape("; ".join(verdict.verdict.reasons))
    return f'<h2>{name}: <span class="fail">FAIL</span></h2><p class="verdict">{reasons}</p>'


def _section(doc: ScenarioDocument, colors: dict[str, str]) -> str:
    listed = "".join(f"<li>{escape(n)}</li>" for n in notes(doc))
    return (
        f"<section>{_heading(doc)}{_caveat(caveat(doc))}<p>{escape(about_load(doc))}</p>"
        + "".join(_closed_charts(doc, colors) + _open_charts(doc, colors))
        + targets_table(doc).html()
        + (f"<ul>{listed}</ul>" if listed else "")
        + "</section>"
    )


def _goals(docs: list[ScenarioDocument]) -> str:
    table = goals_table(evaluate(docs))
    if table is None:
        return ""
    return f"<section><h2>Performance goals</h2><p>{escape(GOALS_NOTE)}</p>{table.html()}</section>"


def html(docs: list[ScenarioDocument]) -> str:
    colors = palette(name for d in docs for name in d.targets)
    intro = "".join(
        f'<p class="{cls}">{escape(text)}</p>'
        for cls, text in (("run", about_run(docs)), ("baseline", about_baseline(docs)))
        if text
    )
    sections = "".join(_section(d, colors) for d in docs)
    return (
        "<!doctype html><html lang=en><meta charset=utf-8><title>apiforge bench</title>"
        f"<style>{STYLE}</style><h1>apiforge bench</h1>{intro}{sections}{_goals(docs)}</html>"
    )
