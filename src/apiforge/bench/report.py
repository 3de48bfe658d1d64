"""Writes a run's results: one JSON file per scenario, a Markdown summary and an HTML report
with inline SVG plots, all under the output directory with the run's timestamp."""

import json
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

from apiforge.bench.charts import bar_chart, grouped_chart
from apiforge.bench.goals import evaluate, markdown_table

PLOTTED = ("p50", "p95", "p99")


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}x"


def _verdict(doc: dict[str, Any]) -> str:
    verdict = doc.get("verdict")
    if not verdict:
        return "n/a"
    return "PASS" if verdict["passed"] else "FAIL: " + "; ".join(verdict["reasons"])


def _target_rows(doc: dict[str, Any]) -> list[str]:
    rows = []
    for name, t in doc["targets"].items():
        lat = t["latency_ms"]
        ol = t.get("open_loop") or {}
        ol_lat = ol.get("latency_ms", {})
        errors = t["non_2xx"] + sum(v for k, v in t["errors"].items() if k != "status")
        rows.append(
            f"| {name} | {t['rps']:,.0f} | {_ms(lat.get('p50'))} | {_ms(lat.get('p99'))} | "
            f"{_ms(lat.get('max'))} | {errors} ({t['non_2xx']} non-2xx) | "
            f"{_ratio(t['ratio_to_baseline'])} | {_ms(ol_lat.get('p50'))} | "
            f"{_ms(ol_lat.get('p99'))} |"
        )
    return rows


def markdown(docs: list[dict[str, Any]]) -> str:
    lines = ["# apiforge bench", ""]
    if docs:
        first = docs[0]
        m, v = first["machine"], first["versions"]
        lines += [
            f"Run {first['started_at']} on {m.get('cpu_model')} ({m.get('cores')} cores, "
            f"pinning {'on' if m.get('pinning') else 'off'}); "
            + ", ".join(f"{k} {val}" for k, val in v.items() if val),
            "",
        ]
        if m.get("baseline", "bare FastAPI") != "bare FastAPI":
            lines += [
                f"Baseline: the {m['baseline']}. Shop settings: {m.get('shop_env')}.",
                "",
            ]
    for doc in docs:
        s = doc["settings"]
        lines += [
            f"## {doc['scenario']}: {_verdict(doc)}",
            "",
            f"{doc['description']} wrk: {s['connections']} connections, {s['duration_s']:g} s x "
            f"{s['rounds']} rounds; open loop: {s['rate']:g} req/s for {s['open_duration_s']:g} s. "
            f"SLO: p50 < {doc['slo']['p50_ms']:g} ms, p99 < {doc['slo']['p99_ms']:g} ms, "
            f"errors < {doc['slo']['max_error_rate']:.2%}.",
            "",
            "| target | req/s | p50 ms | p99 ms | max ms | errors | ratio | open p50 ms "
            "| open p99 ms |",
            "|---|---:|---:|---:|---:|---|---:|---:|---:|",
            *_target_rows(doc),
            "",
        ]
        for name, t in doc["targets"].items():
            lines += [f"- {name}: {note}" for note in t.get("notes", [])]
            bg = t.get("background")
            if bg:
                lines.append(
                    f"- {name}: background {bg['sent']} requests alongside, "
                    f"p99 {bg['latency_ms'].get('p99', 0):.1f} ms, {bg['errors']} errors"
                )
            ol = t.get("open_loop")
            if ol and ol.get("fell_behind"):
                lines.append(f"- {name}: the open-loop generator fell behind its schedule")
        lines.append("")
    lines += markdown_table(evaluate(docs))
    return "\n".join(lines).rstrip() + "\n"


def _charts(doc: dict[str, Any]) -> str:
    targets = doc["targets"]
    rps = bar_chart("Throughput (closed loop, median of rounds)",
                    [(n, t["rps"]) for n, t in targets.items()], "req/s")  # fmt: skip
    closed = grouped_chart(
        "Latency percentiles (closed loop)",
        {n: {p: t["latency_ms"].get(p, 0.0) for p in PLOTTED} for n, t in targets.items()},
        "ms",
    )
    per_endpoint = {
        f"{n} {endpoint}": {p: values.get(p, 0.0) for p in PLOTTED}
        for n, t in targets.items()
        if t.get("open_loop")
        for endpoint, values in t["open_loop"]["per_endpoint"].items()
    }
    opened = grouped_chart(
        "Latency per endpoint (open loop, at the stated rate)", per_endpoint, "ms"
    )
    return rps + closed + (opened if per_endpoint else "")


def html(docs: list[dict[str, Any]], summary_md: str) -> str:
    sections = "".join(
        f"<section><h2>{escape(d['scenario'])}: {escape(_verdict(d))}</h2>{_charts(d)}</section>"
        for d in docs
    )
    return (
        "<!doctype html><html lang=en><meta charset=utf-8><title>apiforge bench</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto}"
        "pre{background:#f6f6f6;padding:1em;overflow:auto}svg{display:block;margin:1em 0}</style>"
        f"<h1>apiforge bench</h1>{sections}<h2>Summary</h2><pre>{escape(summary_md)}</pre></html>"
    )


def write_reports(docs: list[dict[str, Any]], out: Path, stamp: datetime) -> dict[str, Path]:
    """Files written, by kind: `<stamp>-<scenario>.json` each, `<stamp>-summary.md`/`.html`."""
    out.mkdir(parents=True, exist_ok=True)
    prefix = stamp.strftime("%Y%m%dT%H%M%SZ")
    written: dict[str, Path] = {}
    for doc in docs:
        path = out / f"{prefix}-{doc['scenario']}.json"
        path.write_text(json.dumps(doc, indent=2, sort_keys=False) + "\n")
        written[doc["scenario"]] = path
    summary = markdown(docs)
    written["markdown"] = out / f"{prefix}-summary.md"
    written["markdown"].write_text(summary)
    written["html"] = out / f"{prefix}-summary.html"
    written["html"].write_text(html(docs, summary))
    return written
