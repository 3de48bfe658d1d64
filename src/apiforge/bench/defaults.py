"""The bench's defaults, each in one place: where it finds PostgreSQL and Redis, the demo
users' password, where scenarios are read from and results written to, and how a command is
pinned to a core. The CLI and the library both read them from here."""

from pathlib import Path

POSTGRES_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379"
DEMO_PASSWORD = "apiforge-demo"  # noqa: S105  # the seed's public demo password
SEED_PRODUCTS = 10_000

SCENARIOS_DIR = Path("bench/scenarios")
# A run's files land in an ignored directory, so a bench leaves `git status` clean; figures
# worth committing (those BENCHMARKS.md cites) go to the tracked one when asked (`--keep`).
RESULTS_DIR = Path("bench/runs")
KEPT_RESULTS_DIR = Path("bench/results")


def pinned(command: list[str], core: int | None) -> list[str]:
    """`command` run on `core` only (through taskset), or as it is when `core` is None."""
    return command if core is None else ["taskset", "--cpu-list", str(core), *command]
