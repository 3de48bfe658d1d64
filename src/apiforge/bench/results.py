"""A scenario's results as they are measured: per target, the closed-loop rounds and their
medians, the open-loop run, the ratio to the baseline and the SLO verdict, summed up into one
`ScenarioDocument`."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Self

from apiforge.bench.document import (
    BackgroundSummary,
    Endpoint,
    RunSettings,
    ScenarioDocument,
    ScenarioVerdict,
    TargetSummary,
)
from apiforge.bench.openloop import OpenLoopResult
from apiforge.bench.scenario import Scenario
from apiforge.bench.stats import Verdict, median, median_of, ratio, slo_verdict
from apiforge.bench.wrk import WrkResult

BASELINE = "baseline"
# The second baseline, raw asyncpg on the shop's own database (`db_baseline.py`).
DB_BASELINE = "db"
BASELINES = frozenset({BASELINE, DB_BASELINE})


@dataclass
class TargetRun:
    name: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    rounds: list[WrkResult] = field(default_factory=list)
    open_loop: OpenLoopResult | None = None
    background: list[OpenLoopResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return median([r.rps for r in self.rounds])

    def summary(
        self, baseline_rps: float | None, scenario: Scenario, db_rps: float | None = None
    ) -> TargetSummary:
        requests = sum(r.requests for r in self.rounds)
        errors: dict[str, int] = {}
        for r in self.rounds:
            for kind, count in r.errors.items():
                errors[kind] = errors.get(kind, 0) + count
        non_2xx = sum(r.non_2xx for r in self.rounds)
        error_count = sum(r.error_count for r in self.rounds)
        return TargetSummary(
            url=self.url,
            rps=self.rps,
            rps_rounds=[r.rps for r in self.rounds],
            latency_ms=median_of([r.latency_ms for r in self.rounds]),
            requests=requests,
            errors=errors,
            non_2xx=non_2xx,
            error_rate=error_count / requests if requests else (1.0 if self.rounds else 0.0),
            ratio_to_baseline=ratio(self.rps, baseline_rps) if baseline_rps else None,
            rounds=list(self.rounds),
            open_loop=self.open_loop,
            slo=self.verdict(scenario),
            background=self._background(),
            notes=self.notes,
            ratio_to_db=ratio(self.rps, db_rps) if db_rps and self.name != DB_BASELINE else None,
        )

    def _background(self) -> BackgroundSummary | None:
        if not self.background:
            return None
        return BackgroundSummary(
            sent=sum(b.sent for b in self.background),
            errors=sum(b.errors + b.non_2xx for b in self.background),
            statuses=[b.statuses for b in self.background],
            latency_ms=median_of([b.latency_ms for b in self.background]),
        )

    def verdict(self, scenario: Scenario) -> Verdict | None:
        """At the stated rate (open loop) when it ran, else from the closed-loop medians."""
        slo = scenario.slo
        if self.open_loop is not None:
            ol = self.open_loop
            p50, p99, rate = ol.latency_ms["p50"], ol.latency_ms["p99"], ol.error_rate
        elif self.rounds:
            latency = median_of([r.latency_ms for r in self.rounds])
            p50, p99 = latency.get("p50", 0.0), latency.get("p99", 0.0)
            rate = median([r.error_rate for r in self.rounds])
        else:
            return None
        return slo_verdict(
            p50_ms=p50, p99_ms=p99, error_rate=rate, max_p50_ms=slo.p50_ms,
            max_p99_ms=slo.p99_ms, max_error_rate=slo.max_error_rate,
        )  # fmt: skip


@dataclass
class ScenarioResult:
    scenario: Scenario
    started_at: datetime
    settings: RunSettings
    targets: dict[str, TargetSummary] = field(default_factory=dict)
    verdict: ScenarioVerdict | None = None
    versions: dict[str, str | None] = field(default_factory=dict)
    machine: dict[str, object] = field(default_factory=dict)

    @classmethod
    def start(
        cls, scenario: Scenario, rounds: int, duration: float, connections: int, threads: int,
        warmup: float,
    ) -> Self:  # fmt: skip
        settings = RunSettings(
            rounds=rounds, duration_s=duration, connections=connections, threads=threads,
            warmup_s=warmup, rate=scenario.rate, open_duration_s=scenario.open_duration,
            open_connections=scenario.open_connections,
        )  # fmt: skip
        return cls(scenario, datetime.now(UTC), settings)

    def finish(self, runs: list[TargetRun]) -> None:
        by_name = {r.name: r for r in runs}
        baseline = by_name.get(BASELINE)
        baseline_rps = baseline.rps if baseline is not None and baseline.rounds else None
        db = by_name.get(DB_BASELINE)
        db_rps = db.rps if db is not None and db.rounds else None
        self.targets = {r.name: r.summary(baseline_rps, self.scenario, db_rps) for r in runs}
        # The verdict is the measured service's: the first target that is not a baseline.
        judged = next((r for r in runs if r.name not in BASELINES), runs[0] if runs else None)
        verdict = None if judged is None else judged.verdict(self.scenario)
        if judged is not None and verdict is not None:
            self.verdict = ScenarioVerdict(judged.name, verdict, judged.open_loop is not None)

    def document(self) -> ScenarioDocument:
        s = self.scenario
        return ScenarioDocument(
            scenario=s.name,
            description=s.description,
            started_at=self.started_at,
            settings=self.settings,
            endpoints=[Endpoint(r.name, r.method, r.path, r.weight) for r in s.requests],
            slo=s.slo,
            goals=s.goals,
            targets=self.targets,
            verdict=self.verdict,
            versions=self.versions,
            machine=self.machine,
        )
