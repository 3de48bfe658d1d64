"""The words and tables of a run's report, shared by the Markdown summary and the HTML page:
the verdict and what it was judged on, the caveat that qualifies it, what the baseline is,
the load, the targets' figures and the goals. Layout is the callers' job."""

from apiforge.bench.document import ScenarioDocument
from apiforge.bench.goals import GoalRow
from apiforge.bench.results import DB_BASELINE
from apiforge.bench.tables import Strong, Table

BARE_BASELINE = "bare FastAPI"
GIVEN_BASELINE = "given: "
SHOP_BASELINE = "shop: "


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}x"


def verdict_text(doc: ScenarioDocument) -> str:
    if doc.verdict is None:
        return "n/a"
    verdict = doc.verdict.verdict
    return "PASS" if verdict.passed else "FAIL: " + "; ".join(verdict.reasons)


def verdict_basis(doc: ScenarioDocument) -> str:
    """What the verdict was judged on, e.g. "the shop at 300 req/s (open loop)"."""
    if doc.verdict is None:
        return "nothing: no target was measured"
    name = doc.verdict.target
    if doc.verdict.open_loop:
        return f"the {name} at {doc.settings.rate:g} req/s (open loop)"
    return f"the {name}'s closed-loop medians (wrk)"


def caveat(doc: ScenarioDocument) -> str | None:
    """When the open-loop generator fell behind its schedule: how to read the figures (and
    the verdict, when it was judged on them)."""
    behind = {
        n: t.open_loop for n, t in doc.targets.items() if t.open_loop and t.open_loop.fell_behind
    }
    if not behind:
        return None
    how = "; ".join(
        f"{name}: {ol.late_dispatches:,} of {ol.sent:,} requests sent late, "
        f"up to {ol.max_dispatch_lag_ms:,.0f} ms"
        for name, ol in behind.items()
    )
    text = (
        f"The open-loop generator fell behind its schedule ({how}): those open-loop latencies "
        "are upper bounds, and the service may be faster than they say."
    )
    judged = doc.verdict
    if judged is not None and judged.open_loop and judged.target in behind:
        text += (
            " The PASS stands: the service was at least this fast."
            if judged.verdict.passed
            else " This FAIL rests on them: it may be the generator's, not the service's."
        )
    return text


def about_run(docs: list[ScenarioDocument]) -> str | None:
    if not docs:
        return None
    first = docs[0]
    m = first.machine
    pinning = "on" if m.get("pinning") else "off"
    stamps = ", ".join(f"{k} {v}" for k, v in first.versions.items() if v)
    return (
        f"Run {first.started_at.isoformat(timespec='seconds')} on {m.get('cpu_model')} "
        f"({m.get('cores')} cores, pinning {pinning}); {stamps}."
    )


def about_baseline(docs: list[ScenarioDocument]) -> str | None:
    """One sentence: what the baseline every ratio divides by is, in this run."""
    if not docs:
        return None
    machine = docs[0].machine
    baseline = str(machine.get("baseline", BARE_BASELINE))
    if baseline.startswith(SHOP_BASELINE):
        settings = baseline.removeprefix(SHOP_BASELINE)
        return (
            "The baseline is a second copy of the shop, on the same database, with other "
            f"settings ({settings}; the shop under test: {machine.get('shop_env')}): a ratio "
            "is what the difference costs."
        )
    if baseline.startswith(GIVEN_BASELINE):
        url = baseline.removeprefix(GIVEN_BASELINE)
        return f"The baseline is the server at {url} (given with --baseline-url)."
    text = (
        "The baseline is a bare FastAPI app on Uvicorn serving the shop's JSON shapes from "
        "memory (no database, no middleware): the ceiling the shop can approach; a ratio is "
        "the shop's req/s over the baseline's."
    )
    if any(DB_BASELINE in doc.targets for doc in docs):
        text += (
            " Where a scenario has a `db` target, it is a bare FastAPI app reading the same rows "
            "from the shop's PostgreSQL with raw asyncpg (a pool, prepared statements, the JSON "
            "built by PostgreSQL): the db ratio is the shop's req/s over its."
        )
    return text


def about_load(doc: ScenarioDocument) -> str:
    s, slo = doc.settings, doc.slo
    opened = f"open loop: {s.rate:g} req/s for {s.open_duration_s:g} s" if s.rate else ""
    return (
        f"{doc.description} wrk: {s.connections} connections, {s.duration_s:g} s x "
        f"{s.rounds} rounds; {opened or 'no open loop'}. SLO: p50 < {slo.p50_ms:g} ms, "
        f"p99 < {slo.p99_ms:g} ms, errors < {slo.max_error_rate:.2%}, judged on "
        f"{verdict_basis(doc)}."
    ).strip()


def targets_table(doc: ScenarioDocument) -> Table:
    rows: list[tuple[str | Strong, ...]] = []
    for name, t in doc.targets.items():
        ol = {} if t.open_loop is None else t.open_loop.latency_ms
        rows.append(
            (
                name, f"{t.rps:,.0f}", _ms(t.latency_ms.get("p50")), _ms(t.latency_ms.get("p99")),
                _ms(t.latency_ms.get("max")), f"{t.error_count} ({t.non_2xx} non-2xx)",
                _ratio(t.ratio_to_baseline), _ratio(t.ratio_to_db), _ms(ol.get("p50")),
                _ms(ol.get("p99")),
            )
        )  # fmt: skip
    header = (
        "target", "req/s", "p50 ms", "p99 ms", "max ms", "errors", "ratio", "db ratio",
        "open p50 ms", "open p99 ms",
    )  # fmt: skip
    return Table(header, rows, numeric=frozenset({1, 2, 3, 4, 6, 7, 8, 9}))


def notes(doc: ScenarioDocument) -> list[str]:
    lines = []
    for name, t in doc.targets.items():
        lines += [f"{name}: {note}" for note in t.notes]
        bg = t.background
        if bg is not None:
            lines.append(
                f"{name}: background {bg.sent} requests alongside, "
                f"p99 {bg.latency_ms.get('p99', 0):.1f} ms, {bg.errors} errors"
            )
    return lines


GOALS_NOTE = (
    "Each scenario's own goals for the shop, checked on its closed-loop medians (wrk) beside "
    "the SLO."
)


def goals_table(rows: list[GoalRow]) -> Table | None:
    if not rows:
        return None
    verdict: dict[bool | None, str | Strong] = {True: "met", False: Strong("missed"), None: "n/a"}
    return Table(
        ("scenario", "goal", "measured", ""),
        [(r.scenario, r.goal, r.measured, verdict[r.met]) for r in rows],
        numeric=frozenset({2}),
    )
