"""`apiforge bench`: the shop against the bare FastAPI baseline, in one run, with reports."""

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from apiforge.bench import defaults
from apiforge.bench.scenario import discover, parse_duration


def _seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _assignments(pairs: list[str]) -> dict[str, str]:
    settings: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.startswith("APIFORGE_"):
            raise typer.BadParameter(f"expected APIFORGE_NAME=VALUE, got {pair!r}")
        if value:
            settings[name] = value
    return settings


def results_dir(out: Path | None, keep: bool) -> Path:
    """Where a run's files go: `--out`, else the committed directory with `--keep`, else the
    ignored one (a bench leaves `git status` clean unless asked)."""
    if out is not None and keep:
        raise typer.BadParameter("--keep writes into the committed results; drop --out")
    if out is not None:
        return out
    return defaults.KEPT_RESULTS_DIR if keep else defaults.RESULTS_DIR


def bench(
    scenarios: Annotated[
        list[str] | None, typer.Argument(help="Scenario names (default: all).")
    ] = None,
    duration: Annotated[str | None, typer.Option(help="wrk run per round, e.g. 10s.")] = None,
    connections: Annotated[int | None, typer.Option(min=1, help="wrk connections.")] = None,
    threads: Annotated[int | None, typer.Option(min=1, help="wrk threads.")] = None,
    rounds: Annotated[int, typer.Option(min=1, max=20, help="A B rounds.")] = 2,
    warmup: Annotated[str | None, typer.Option(help="Warm-up per target and round.")] = None,
    open_duration: Annotated[
        str | None, typer.Option(help="Open-loop run per target, e.g. 5s.")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Shop workers.")] = 1,
    shop_url: Annotated[str | None, typer.Option(help="Measure this shop (not started).")] = None,
    baseline_url: Annotated[str | None, typer.Option(help="Use this baseline.")] = None,
    out: Annotated[
        Path | None,
        typer.Option(help=f"Results directory (default: {defaults.RESULTS_DIR}, ignored by git)."),
    ] = None,
    keep: Annotated[
        bool,
        typer.Option(help=f"Write the results into the committed {defaults.KEPT_RESULTS_DIR}."),
    ] = False,
    scenarios_dir: Annotated[Path, typer.Option(help="Scenario files.")] = defaults.SCENARIOS_DIR,
    database_url: Annotated[
        str | None,
        typer.Option(envvar="APIFORGE_DATABASE_URL", help="Shop database (default: created)."),
    ] = None,
    postgres_admin_url: Annotated[
        str,
        typer.Option(envvar="APIFORGE_TEST_POSTGRES_URL", help="Server for the bench database."),
    ] = defaults.POSTGRES_ADMIN_URL,
    redis_url: Annotated[
        str | None, typer.Option(envvar="APIFORGE_REDIS_URL", help="Redis for the shop.")
    ] = defaults.REDIS_URL,
    demo_password: Annotated[
        str, typer.Option(envvar="APIFORGE_DEMO_PASSWORD", help="The demo users' password.")
    ] = defaults.DEMO_PASSWORD,
    seed_products: Annotated[int, typer.Option(min=1, help="Products seeded.")] = (
        defaults.SEED_PRODUCTS
    ),
    closed_loop: Annotated[bool, typer.Option(help="Run the wrk throughput rounds.")] = True,
    open_loop: Annotated[bool, typer.Option(help="Run the fixed-rate latency pass.")] = True,
    pin: Annotated[bool, typer.Option(help="Pin server and load to separate cores.")] = True,
    pin_services: Annotated[
        bool, typer.Option(help="Also pin PostgreSQL and Redis to the load core (shared!).")
    ] = False,
    shop_env: Annotated[
        list[str] | None,
        typer.Option(help="A setting for the shop, NAME=VALUE (repeatable)."),
    ] = None,
    baseline_shop_env: Annotated[
        list[str] | None,
        typer.Option(
            help="Make the baseline a second shop with this setting, NAME=VALUE (repeatable; "
            "NAME= alone gives a shop with the defaults)."
        ),
    ] = None,
    otlp_sink: Annotated[
        bool, typer.Option(help="Start an OTLP receiver that discards spans; point shops at it.")
    ] = False,
) -> None:
    """Benchmark the shop against a bare FastAPI baseline; write JSON, Markdown and HTML."""
    destination = results_dir(out, keep)
    if closed_loop and shutil.which("wrk") is None:
        typer.echo(
            "apiforge: wrk is not installed (Debian: apt-get install wrk, or make bench)", err=True
        )
        raise typer.Exit(2)
    try:
        chosen = discover(scenarios_dir, scenarios)
    except (ValueError, OSError) as exc:
        typer.echo(f"apiforge: {exc}", err=True)
        raise typer.Exit(2) from None
    try:
        # Here, not at the top: the load tools need httpx, which a production install of the
        # shop lacks, and `apiforge serve` must not depend on them.
        from apiforge.bench.launch import BenchConfig, run_bench
        from apiforge.bench.report import write_reports
        from apiforge.bench.runner import Options, Progress
    except ImportError as exc:
        typer.echo(f"apiforge: bench needs the dev dependencies ({exc})", err=True)
        raise typer.Exit(2) from None
    shop_settings = _assignments(shop_env or [])
    baseline_settings = None if baseline_shop_env is None else _assignments(baseline_shop_env)
    options = Options(
        rounds=rounds, duration=_seconds(duration), connections=connections, threads=threads,
        warmup=_seconds(warmup), open_duration=_seconds(open_duration),
        closed_loop=closed_loop, open_loop=open_loop,
        demo_password=demo_password,
    )  # fmt: skip
    config = BenchConfig(
        chosen, options, shop_url=shop_url, baseline_url=baseline_url, workers=workers,
        database_url=database_url, postgres_admin_url=postgres_admin_url, redis_url=redis_url,
        seed_products=seed_products, pin=pin, pin_services=pin_services,
        shop_env=shop_settings, baseline_shop_env=baseline_settings, otlp_sink=otlp_sink,
    )  # fmt: skip
    started = datetime.now(UTC)
    docs = run_bench(config, Progress())
    written = write_reports(docs, destination, started)
    typer.echo(written["markdown"].read_text())
    typer.echo(f"Results: {written['markdown'].parent} ({written['html'].name})")
    if destination == defaults.RESULTS_DIR:
        typer.echo(f"(not tracked by git; --keep writes them into {defaults.KEPT_RESULTS_DIR})")
