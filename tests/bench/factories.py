"""Small typed builders of scenario results: a two-target run (baseline and shop) summed up
into a `ScenarioDocument`, as the bench makes it."""

from apiforge.bench.document import ScenarioDocument, TargetSummary
from apiforge.bench.openloop import OpenLoopResult, summarize
from apiforge.bench.results import ScenarioResult, TargetRun
from apiforge.bench.scenario import Scenario
from apiforge.bench.wrk import WrkResult


def scenario(**overrides: object) -> Scenario:
    data: dict[str, object] = {
        "name": "catalog",
        "description": "Reads.",
        "requests": [{"name": "list", "path": "/api/products", "weight": 3}],
        "rate": 100,
    }
    return Scenario.model_validate(data | overrides)


def wrk_result(requests: int, p99: float, non_2xx: int = 0) -> WrkResult:
    errors = {"connect": 0, "read": 0, "write": 0, "status": non_2xx, "timeout": 0}
    latency = {"p50": p99 / 10, "p95": p99 / 2, "p99": p99, "max": p99 * 2}
    return WrkResult(requests, 1.0, errors, non_2xx, latency)


def open_loop(p50: float, p99: float, *, fell_behind: bool = False) -> OpenLoopResult:
    result = summarize([], rate=100, duration=1, late=0, max_lag_s=0)
    result.latency_ms = {"p50": p50, "p95": (p50 + p99) / 2, "p99": p99, "max": p99 * 1.2}
    result.per_endpoint = {"list": result.latency_ms}
    result.sent = result.ok = 100
    if fell_behind:
        result.fell_behind, result.late_dispatches, result.max_dispatch_lag_ms = True, 40, 85.0
    return result


def document(
    *,
    shop_open: bool = True,
    fell_behind: bool = False,
    scenario_: Scenario | None = None,
    machine: dict[str, object] | None = None,
) -> ScenarioDocument:
    """The shop fails its p99 SLO at the stated rate (250 ms >= 200 ms) when `shop_open`."""
    baseline = TargetRun(
        "baseline", "http://b", rounds=[wrk_result(10_000, 5), wrk_result(12_000, 7)]
    )
    shop = TargetRun(
        "shop", "http://s", rounds=[wrk_result(1_000, 40, non_2xx=1), wrk_result(3_000, 60)]
    )
    if shop_open:
        shop.open_loop = open_loop(4.0, 250.0, fell_behind=fell_behind)
        baseline.open_loop = open_loop(2.0, 9.0)
    shop.notes.append("restock: 1 of 50 products not updated")
    shop.background = [summarize([], rate=2, duration=1, late=0, max_lag_s=0)]
    result = ScenarioResult.start(scenario_ or scenario(), 2, 1.0, 64, 1, 0.0)
    result.versions = {"python": "3.11.7", "postgres": None}
    result.machine = machine or {"cores": 2, "cpu_model": "Test CPU", "pinning": True}
    result.finish([baseline, shop])
    return result.document()


def target(
    rps: float, p99: float, *, ratio: float | None = None, non_2xx: int = 0, read: int = 0
) -> TargetSummary:
    """A shop's figures as the goals read them (closed-loop rounds when `rps` is not 0)."""
    return TargetSummary(
        url="http://s", rps=rps, rps_rounds=[rps], latency_ms={"p99": p99}, requests=1000,
        errors={"read": read, "status": non_2xx}, non_2xx=non_2xx, error_rate=0.0,
        ratio_to_baseline=ratio, rounds=[wrk_result(1000, p99)] if rps else [],
        open_loop=None, slo=None, background=None,
    )  # fmt: skip
