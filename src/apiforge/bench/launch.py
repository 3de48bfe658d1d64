"""A whole bench run: start (or reach) the targets, run each scenario against them, and stamp
every result with the versions and the machine it was measured on."""

import asyncio
import contextlib
import functools
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field

from apiforge.bench.affinity import parent_of, pinned_processes, with_children
from apiforge.bench.defaults import POSTGRES_ADMIN_URL, REDIS_URL, SEED_PRODUCTS
from apiforge.bench.document import ScenarioDocument
from apiforge.bench.machine import machine, versions
from apiforge.bench.results import BASELINE, DB_BASELINE
from apiforge.bench.runner import Options, Progress, Target, run_scenario
from apiforge.bench.scenario import Scenario
from apiforge.bench.services import (
    analyze_postgres,
    ensure_postgres_database,
    postgres_server_pid,
    postgres_version,
    redis_answers,
    redis_server_pid,
)
from apiforge.bench.summary import BARE_BASELINE, GIVEN_BASELINE, SHOP_BASELINE
from apiforge.bench.targets import (
    LOAD_CORE,
    SERVER_CORE,
    Server,
    baseline_server,
    can_pin,
    db_baseline_server,
    otlp_sink_server,
    prepare_shop_database,
    shop_server,
)


@dataclass
class BenchConfig:
    scenarios: list[Scenario]
    options: Options = field(default_factory=Options)
    shop_url: str | None = None
    baseline_url: str | None = None
    workers: int = 1
    database_url: str | None = None
    postgres_admin_url: str = POSTGRES_ADMIN_URL
    redis_url: str | None = REDIS_URL
    seed_products: int = SEED_PRODUCTS
    pin: bool = True
    # Also pin PostgreSQL (postmaster and children) and Redis to the load core for the run.
    pin_services: bool = False
    # Settings for the shop under test; and, when `baseline_shop_env` is not None, the
    # baseline is a second shop with these settings instead of the bare FastAPI app.
    shop_env: dict[str, str] = field(default_factory=dict)
    baseline_shop_env: dict[str, str] | None = None
    # Start an OTLP/HTTP receiver that discards spans and point both shops' exporters at it.
    otlp_sink: bool = False


def wrk_version() -> str | None:
    try:
        done = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)  # noqa: S607  # wrk from the PATH, as the run uses it
    except OSError:
        return None
    match = re.search(r"wrk (\S+)", done.stdout or done.stderr)
    return match.group(1) if match else None


@contextlib.contextmanager
def _pinned_to(core: int | None) -> Iterator[None]:
    """This process (the open-loop generator) on the load core for the run."""
    if core is None:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {core})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def _shop_database(config: BenchConfig, progress: Progress) -> str:
    url = config.database_url
    if url is None:
        # Recreated: every run starts from the seed alone. Kept, the demo customer piled up
        # every earlier checkout run's orders (31,746 here), and the dashboard's figures
        # measured the history's size rather than the code.
        url = asyncio.run(ensure_postgres_database(config.postgres_admin_url, recreate=True))
    progress.step("shop database: migrate and seed")
    report = prepare_shop_database(
        url, products=config.seed_products, demo_password=config.options.demo_password
    )
    progress.step(f"  {report.splitlines()[0] if report else 'seeded'}")
    if asyncio.run(analyze_postgres(url)):
        progress.step("  analyzed (planner statistics, whatever autovacuum does)")
    return url


def _service_pids(database_url: str, redis_url: str | None) -> list[int]:
    pids: list[int] = []
    backend = asyncio.run(postgres_server_pid(database_url))
    postmaster = None if backend is None else parent_of(backend)
    if postmaster is not None:
        pids += with_children(postmaster)
    redis = None if redis_url is None else asyncio.run(redis_server_pid(redis_url))
    if redis is not None:
        pids.append(redis)
    return pids


def _baseline(config: BenchConfig, server_core: int | None) -> Server | str | None:
    """The baseline's URL, or its server (started later), or None when it is a second shop."""
    if config.baseline_url is not None:
        return config.baseline_url
    if config.baseline_shop_env is not None:
        return None
    return baseline_server(server_core)


def _describe(env: dict[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(env.items())) or "defaults"


def _baseline_kind(config: BenchConfig, baseline_env: dict[str, str]) -> str:
    """What the baseline was, for the report's sentence about it (`summary.about_baseline`)."""
    if config.baseline_url is not None:
        return GIVEN_BASELINE + config.baseline_url
    if config.baseline_shop_env is not None:
        return SHOP_BASELINE + _describe(baseline_env)
    return BARE_BASELINE


def run_bench(config: BenchConfig, progress: Progress) -> list[ScenarioDocument]:
    pin = config.pin and can_pin()
    server_core = SERVER_CORE if pin else None
    config.options.load_core = LOAD_CORE if pin else None
    postgres: str | None = None
    db_url: str | None = None
    services_pinned = False
    with contextlib.ExitStack() as stack:
        shop_env = dict(config.shop_env)
        baseline_env = dict(config.baseline_shop_env or {})
        if config.otlp_sink:
            sink = otlp_sink_server(LOAD_CORE if pin else None)
            stack.enter_context(sink)
            progress.step(f"OTLP sink (discards spans) at {sink.url}")
            for env in (shop_env, baseline_env):
                env.setdefault("APIFORGE_TRACING__OTLP_ENDPOINT", sink.url)
        baseline = _baseline(config, server_core)
        if isinstance(baseline, Server):
            progress.step("starting the baseline (bare FastAPI on Uvicorn)")
            # Started now, awaited later: it boots while the shop's database is prepared.
            stack.callback(baseline.stop)
            baseline.start()
        shop_url = config.shop_url
        if shop_url is None:
            database_url = _shop_database(config, progress)
            postgres = asyncio.run(postgres_version(database_url))
            redis = config.redis_url
            if redis and not asyncio.run(redis_answers(redis)):
                progress.step(f"Redis at {redis} does not answer: the shop runs without it")
                redis = None
            progress.step(f"starting the shop (apiforge serve --workers {config.workers})")
            # The shop under test and, when asked, the baseline shop: the same but for settings.
            a_shop = functools.partial(
                shop_server,
                server_core,
                database_url=database_url,
                redis_url=redis,
                workers=config.workers,
            )
            shop_url = stack.enter_context(a_shop(extra_settings=shop_env)).url
            if any(s.db_baseline for s in config.scenarios):
                progress.step("starting the db baseline (raw asyncpg on the shop's database)")
                db_server = db_baseline_server(server_core, database_url, shop_env)
                db_url = stack.enter_context(db_server).url
            if baseline is None:
                progress.step(f"starting the baseline shop ({_describe(baseline_env)})")
                baseline = a_shop(name="baseline-shop", extra_settings=baseline_env)
                stack.enter_context(baseline)
            if pin and config.pin_services:
                services = _service_pids(database_url, redis)
                pinned = stack.enter_context(pinned_processes(services, LOAD_CORE))
                progress.step(
                    f"pinned {len(pinned)} PostgreSQL/Redis processes to core {LOAD_CORE}"
                )
                services_pinned = bool(pinned)
        if baseline is None:
            raise ValueError("a baseline shop needs the shop started here (no --shop-url)")
        baseline_url = baseline if isinstance(baseline, str) else baseline.ready()
        targets = [Target(BASELINE, baseline_url), Target("shop", shop_url)]
        stamps = _Stamps(
            versions(postgres=postgres, wrk=wrk_version()),
            machine(pinning=pin) | {
                "shop_workers": config.workers,
                "services_pinned": services_pinned,
                "shop_env": _describe(shop_env),
                "baseline": _baseline_kind(config, baseline_env),
            },
        )  # fmt: skip
        db = None if db_url is None else Target(DB_BASELINE, db_url, setup=False)
        return _measure(config, targets, db, stamps, progress)


@dataclass(frozen=True)
class _Stamps:
    versions: dict[str, str | None]
    machine: dict[str, object]


def _measure(
    config: BenchConfig, targets: list[Target], db: Target | None, stamps: _Stamps,
    progress: Progress,
) -> list[ScenarioDocument]:  # fmt: skip
    """Each scenario against the targets (and the `db` baseline where the scenario asks)."""
    docs: list[ScenarioDocument] = []
    with _pinned_to(config.options.load_core):
        for scenario in config.scenarios:
            chosen = [*targets, db] if db is not None and scenario.db_baseline else targets
            result = run_scenario(scenario, chosen, config.options, progress)
            result.versions = stamps.versions
            result.machine = stamps.machine
            docs.append(result.document())
    return docs
