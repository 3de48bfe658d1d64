"""Runs scenarios against targets: set-up, then A B A B closed-loop rounds with wrk (each
after a short warm-up), then the open-loop latency run, with a line of progress per step.

Targets are already running (their URLs): starting them is the CLI's job, so tests can run
the same code against servers they start themselves.
"""

import asyncio
import contextlib
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from apiforge.bench import cache_counts
from apiforge.bench.defaults import DEMO_PASSWORD, pinned
from apiforge.bench.openloop import OpenLoopResult, run_open_loop
from apiforge.bench.results import ScenarioResult, TargetRun
from apiforge.bench.scenario import ConcreteRequest, Scenario, Setup, weighted_mix
from apiforge.bench.session import prepare
from apiforge.bench.wrk import WrkResult, lua_script, parse_wrk_output, wrk_command

WRK_GRACE_S = 30


class Progress:
    """One line per step, prefixed with the time since the run started."""

    def __init__(self, stream: TextIO | None = None) -> None:
        # Looked up now, not at import: a caller may have replaced sys.stderr since.
        self.stream = stream or sys.stderr
        self.started = time.monotonic()

    def step(self, message: str) -> None:
        elapsed = time.monotonic() - self.started
        print(f"[{elapsed:7.1f}s] {message}", file=self.stream, flush=True)


@dataclass(frozen=True)
class Target:
    """`setup=False`: the target reads what another target's set-up wrote (the `db` baseline
    reads the shop's database), so only its login runs."""

    name: str
    url: str
    setup: bool = True


@dataclass
class Options:
    rounds: int = 2
    duration: float | None = None
    connections: int | None = None
    threads: int | None = None
    warmup: float | None = None
    open_duration: float | None = None
    closed_loop: bool = True
    open_loop: bool = True
    load_core: int | None = None
    demo_password: str = DEMO_PASSWORD
    notes: list[str] = field(default_factory=list)


def run_wrk(
    url: str, script: Path, *, connections: int, threads: int, duration: float, core: int | None
) -> WrkResult:
    command = pinned(
        wrk_command(url, str(script), connections=connections, threads=threads, duration=duration),
        core,
    )
    done = subprocess.run(  # noqa: S603  # our own argv
        command, capture_output=True, text=True, check=False, timeout=duration + WRK_GRACE_S
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout}")
    return parse_wrk_output(done.stdout)


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


@dataclass(frozen=True)
class _Load:
    """The closed-loop settings of one scenario run (options over the scenario's own)."""

    duration: float
    connections: int
    threads: int
    warmup: float
    core: int | None

    def wrk(self, target: Target, script: Path, duration: float) -> WrkResult:
        return run_wrk(
            target.url, script, connections=self.connections, threads=self.threads,
            duration=duration, core=self.core,
        )  # fmt: skip


def run_scenario(
    scenario: Scenario, targets: list[Target], options: Options, progress: Progress
) -> ScenarioResult:
    if options.open_duration is not None:
        scenario = scenario.model_copy(update={"open_duration": options.open_duration})
    load = _Load(
        duration=options.duration or scenario.duration,
        connections=options.connections or scenario.connections,
        threads=options.threads or scenario.threads,
        warmup=scenario.warmup if options.warmup is None else options.warmup,
        core=options.load_core,
    )
    result = ScenarioResult.start(
        scenario, options.rounds, load.duration, load.connections, load.threads, load.warmup
    )
    mix = weighted_mix(scenario, password=options.demo_password)
    runs = {t.name: TargetRun(t.name, t.url) for t in targets}
    with tempfile.TemporaryDirectory(prefix="apiforge-bench-lua-") as tmp:
        scripts: dict[str, Path] = {}
        for target in targets:
            progress.step(f"{scenario.name}: set-up on {target.name}")
            own = scenario if target.setup else scenario.model_copy(update={"setup": Setup()})
            prepared = prepare(target.url, own, options.demo_password)
            runs[target.name].headers = prepared.headers
            runs[target.name].notes.extend(prepared.notes)
            scripts[target.name] = Path(tmp) / f"{target.name}.lua"
            scripts[target.name].write_text(lua_script(mix, prepared.headers))
        # A B A B: drift in the machine (other load, thermal) spreads over both targets.
        for round_no in range(1, options.rounds + 1 if options.closed_loop else 1):
            for target in targets:
                if load.warmup > 0:
                    load.wrk(target, scripts[target.name], load.warmup)
                before = cache_counts.scrape(target.url)
                with _background(
                    target, scenario, load.duration, runs[target.name], options.demo_password
                ):
                    outcome = load.wrk(target, scripts[target.name], load.duration)
                runs[target.name].rounds.append(outcome)
                _report_round(f"round {round_no} {target.name}", outcome, progress)
                after = None if before is None else cache_counts.scrape(target.url)
                if before is not None and after is not None:
                    counted = cache_counts.describe(before, after)
                    runs[target.name].notes.append(f"round {round_no} cache: {counted}")
                    progress.step(f"    cache: {counted}")
    if options.open_loop and scenario.rate > 0:
        for target in targets:
            progress.step(
                f"{scenario.name}: open loop on {target.name}, "
                f"{scenario.rate:g} req/s for {scenario.open_duration:g} s"
            )
            open_result = _open(target, runs[target.name], scenario, mix)
            runs[target.name].open_loop = open_result
            _report_open(open_result, progress)
    result.finish(list(runs.values()))
    return result


@contextlib.contextmanager
def _background(
    target: Target, scenario: Scenario, duration: float, run: TargetRun, password: str
) -> Iterator[None]:
    """The scenario's background requests, at their rate, for as long as the block runs (its
    own thread and event loop: wrk blocks this one)."""
    spec = scenario.background
    if spec is None:
        yield
        return
    mix = weighted_mix(spec, password=password)
    results: list[OpenLoopResult] = []

    def send() -> None:
        results.append(
            asyncio.run(
                run_open_loop(target.url, mix, rate=spec.rate, duration=duration,
                              connections=spec.connections, headers=run.headers)
            )
        )  # fmt: skip

    worker = threading.Thread(target=send, name=f"bench-background-{target.name}")
    worker.start()
    try:
        yield
    finally:
        worker.join()
    run.background.extend(results)


def _report_round(label: str, outcome: WrkResult, progress: Progress) -> None:
    lat = outcome.latency_ms
    progress.step(
        f"  {label}: {outcome.rps:,.0f} req/s, p50 {lat.get('p50', 0):.2f} ms, "
        f"p99 {lat.get('p99', 0):.2f} ms, errors {outcome.error_count}"
    )


def _open(
    target: Target, run: TargetRun, scenario: Scenario, mix: list[ConcreteRequest]
) -> OpenLoopResult:
    return asyncio.run(
        run_open_loop(
            target.url,
            mix,
            rate=scenario.rate,
            duration=scenario.open_duration,
            connections=scenario.open_connections,
            headers=run.headers,
        )
    )


def _report_open(result: OpenLoopResult, progress: Progress) -> None:
    behind = " (generator fell behind: figures are upper bounds)" if result.fell_behind else ""
    lat = result.latency_ms
    progress.step(
        f"  open loop: p50 {lat['p50']:.2f} ms, p99 {lat['p99']:.2f} ms, "
        f"errors {result.non_2xx + result.errors}/{result.sent}{behind}"
    )
