"""CPU per request through the whole shop app, in process, with the observability parts on and
off: a cached product detail (a front-cache hit, the cheapest request the shop serves, so the
share is the largest) called as raw ASGI, no server, no sockets. The served figure, with Uvicorn
and a load generator, is `apiforge bench ... --baseline-shop-env ...` (BENCHMARKS.md).

Run: .venv/bin/python scripts/micro/observability.py [--number N] [--rounds N]
"""

import argparse
import asyncio
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

PATH = "/api/products/5"
DEVNULL = open(os.devnull, "w")  # noqa: SIM115  # for the whole run

VARIANTS: dict[str, dict[str, str]] = {
    "all off": {
        "APIFORGE_ACCESS_LOG": "false",
        "APIFORGE_METRICS__ENABLED": "false",
        "APIFORGE_LOOP_LAG__ENABLED": "false",
    },
    "access log only": {
        "APIFORGE_METRICS__ENABLED": "false",
        "APIFORGE_LOOP_LAG__ENABLED": "false",
    },
    "metrics only": {"APIFORGE_ACCESS_LOG": "false", "APIFORGE_LOOP_LAG__ENABLED": "false"},
    "loop-lag monitor only": {"APIFORGE_ACCESS_LOG": "false", "APIFORGE_METRICS__ENABLED": "false"},
    "all on, a line per hit": {"APIFORGE_ACCESS_LOG_HIT_LINES_PER_SECOND": "0"},
    "all on (the default)": {},
}


def measure(variant: dict[str, str], database: Path, number: int, rounds: int) -> float:
    """Runs in a child process per variant: settings and logging are process-wide."""
    env = {**os.environ, **variant, "APIFORGE_DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    done = subprocess.run(  # noqa: S603  # our own interpreter and script
        [sys.executable, __file__, "--child", str(number), str(rounds)],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(done.stdout.strip().splitlines()[-1])


async def _child(number: int, rounds: int) -> float:
    from asgi_drive import drive
    from asgi_lifespan import LifespanManager

    from apiforge.shop.app import create_shop_app
    from apiforge.shop.settings import ShopSettings

    app = create_shop_app(ShopSettings())
    # Lines go nowhere: the figure is the app's work, not the terminal's.
    (handler,) = logging.getLogger().handlers
    if isinstance(handler, logging.StreamHandler):
        handler.setStream(DEVNULL)
    async with LifespanManager(app) as manager:
        await drive(manager.app, PATH, 500)  # warm the caches (the first call is a miss)
        # A loop iteration every 32 requests, as under load.
        runs = [await drive(manager.app, PATH, number, per_iteration=32) for _ in range(rounds)]
    return min(runs)


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        print(asyncio.run(_child(int(sys.argv[2]), int(sys.argv[3]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=5_000, help="requests per round")
    parser.add_argument("--rounds", type=int, default=7, help="rounds (the best is kept)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        database = Path(tmp) / "shop.db"
        env = {
            **os.environ,
            "APIFORGE_ENVIRONMENT": "development",
            "APIFORGE_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        }
        for command in (["db", "upgrade"], ["db", "seed", "--products", "100"]):
            subprocess.run(  # noqa: S603  # our own CLI
                [sys.executable, "-m", "apiforge", *command], env=env, check=True,
                capture_output=True,
            )  # fmt: skip
        os.environ.update(APIFORGE_ENVIRONMENT="production", APIFORGE_SECRET_KEY="m" * 48)
        print(f"CPU us per cached product detail (front-cache hit), best of {args.rounds} x "
              f"{args.number}:")  # fmt: skip
        figures = {
            name: measure(v, database, args.number, args.rounds) for name, v in VARIANTS.items()
        }
        off = figures["all off"]
        for name, micros in figures.items():
            print(f"  {name:<24} {micros:6.1f}  (+{micros - off:4.1f})")


if __name__ == "__main__":
    main()
