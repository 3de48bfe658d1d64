"""A scenario's results as typed values, from the run to the report: what its JSON file holds,
written and read back unchanged (`to_json`, `from_json`), so a report can be rebuilt from the
committed files. Not where figures are computed: `results.py` does that."""

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Self

from apiforge.bench.openloop import OpenLoopResult
from apiforge.bench.scenario import Goals, Slo
from apiforge.bench.stats import Verdict
from apiforge.bench.wrk import WrkResult

# JSON in and out: the values are whatever the files hold, checked by the dataclasses' shape.
Json = dict[str, Any]


def verdict_json(verdict: Verdict) -> Json:
    """As it reads back from JSON (reasons a list), so files and memory agree."""
    return asdict(verdict) | {"reasons": list(verdict.reasons)}


def verdict_from_json(data: Json) -> Verdict:
    return Verdict(**data | {"reasons": tuple(data["reasons"])})


@dataclass(frozen=True)
class RunSettings:
    """The load as run (options over the scenario's own)."""

    rounds: int
    duration_s: float
    connections: int
    threads: int
    warmup_s: float
    rate: float
    open_duration_s: float
    open_connections: int
    wrk_timeout_s: float = 15


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str
    weight: int


@dataclass(frozen=True)
class BackgroundSummary:
    """The background requests across rounds: medians of their latencies, all errors."""

    sent: int
    errors: int
    statuses: list[dict[str, int]]
    latency_ms: dict[str, float]


@dataclass
class TargetSummary:
    """One target in one scenario: closed-loop medians of the rounds, the open-loop run."""

    url: str
    rps: float
    rps_rounds: list[float]
    latency_ms: dict[str, float]
    requests: int
    errors: dict[str, int]
    non_2xx: int
    error_rate: float
    ratio_to_baseline: float | None
    rounds: list[WrkResult]
    open_loop: OpenLoopResult | None
    slo: Verdict | None
    background: BackgroundSummary | None
    notes: list[str] = field(default_factory=list)
    # The shop's req/s over the `db` baseline's (raw asyncpg), when the scenario measured it.
    ratio_to_db: float | None = None

    @property
    def error_count(self) -> int:
        """Non-2xx answers and requests that got none (wrk counts non-2xx under "status")."""
        return self.non_2xx + sum(v for k, v in self.errors.items() if k != "status")

    def to_json(self) -> Json:
        return {
            "url": self.url,
            "rps": self.rps,
            "rps_rounds": self.rps_rounds,
            "latency_ms": self.latency_ms,
            "requests": self.requests,
            "errors": self.errors,
            "non_2xx": self.non_2xx,
            "error_rate": self.error_rate,
            "ratio_to_baseline": self.ratio_to_baseline,
            "rounds": [asdict(r) | {"rps": r.rps} for r in self.rounds],
            "open_loop": None if self.open_loop is None else asdict(self.open_loop),
            "slo": None if self.slo is None else verdict_json(self.slo),
            "background": None if self.background is None else asdict(self.background),
            "notes": self.notes,
            # Only when measured: files from before the `db` baseline read back unchanged.
            **({} if self.ratio_to_db is None else {"ratio_to_db": self.ratio_to_db}),
        }

    @classmethod
    def from_json(cls, data: Json) -> Self:
        background, open_loop, slo = data["background"], data["open_loop"], data["slo"]
        return cls(
            url=data["url"],
            rps=data["rps"],
            rps_rounds=data["rps_rounds"],
            latency_ms=data["latency_ms"],
            requests=data["requests"],
            errors=data["errors"],
            non_2xx=data["non_2xx"],
            error_rate=data["error_rate"],
            ratio_to_baseline=data["ratio_to_baseline"],
            # `rps` is a property of WrkResult, stored for readers of the file only.
            rounds=[
                WrkResult(**{k: v for k, v in r.items() if k != "rps"}) for r in data["rounds"]
            ],
            open_loop=None if open_loop is None else OpenLoopResult(**open_loop),
            slo=None if slo is None else verdict_from_json(slo),
            background=None if background is None else BackgroundSummary(**background),
            notes=data["notes"],
            # Files written before the `db` baseline existed lack it.
            ratio_to_db=data.get("ratio_to_db"),
        )


@dataclass(frozen=True)
class ScenarioVerdict:
    """The SLO verdict of the measured service: the first target that is not the baseline."""

    target: str
    verdict: Verdict
    # Judged at the stated rate (open loop) when it ran, else on the closed-loop medians.
    open_loop: bool


@dataclass
class ScenarioDocument:
    scenario: str
    description: str
    started_at: datetime
    settings: RunSettings
    endpoints: list[Endpoint]
    slo: Slo
    goals: Goals | None
    targets: dict[str, TargetSummary]
    verdict: ScenarioVerdict | None
    versions: dict[str, str | None] = field(default_factory=dict)
    # Free-form stamps (cores, CPU, pinning, what the baseline was): read by key, as older
    # files lack the keys added since.
    machine: dict[str, object] = field(default_factory=dict)

    def to_json(self) -> Json:
        verdict = self.verdict
        return {
            "scenario": self.scenario,
            "description": self.description,
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "settings": asdict(self.settings),
            "endpoints": [asdict(e) for e in self.endpoints],
            "slo": self.slo.model_dump(),
            "goals": None if self.goals is None else self.goals.model_dump(exclude_none=True),
            "targets": {name: t.to_json() for name, t in self.targets.items()},
            "verdict": None
            if verdict is None
            else {"target": verdict.target} | verdict_json(verdict.verdict),
            "versions": self.versions,
            "machine": self.machine,
        }

    @classmethod
    def from_json(cls, data: Json) -> Self:
        targets = {name: TargetSummary.from_json(t) for name, t in data["targets"].items()}
        verdict = data["verdict"]
        judged = None
        if verdict is not None:
            target = verdict["target"]
            judged = ScenarioVerdict(
                target,
                verdict_from_json({k: v for k, v in verdict.items() if k != "target"}),
                open_loop=target in targets and targets[target].open_loop is not None,
            )
        goals = data.get("goals")
        return cls(
            scenario=data["scenario"],
            description=data["description"],
            started_at=datetime.fromisoformat(data["started_at"]),
            settings=RunSettings(**data["settings"]),
            endpoints=[Endpoint(**e) for e in data["endpoints"]],
            slo=Slo.model_validate(data["slo"]),
            goals=None if goals is None else Goals.model_validate(goals),
            targets=targets,
            verdict=judged,
            versions=data["versions"],
            machine=data["machine"],
        )
