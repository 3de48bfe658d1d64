"""A real shop server for tests that need real HTTP: a scratch database (SQLite file or its own
PostgreSQL database), migrated and seeded with two users and a small catalog, served by uvicorn
in a subprocess (one or more workers)."""

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from apiforge.bench.targets import free_port
from apiforge.kit.testing.services import create_postgres_database, drop_postgres_database

PASSWORD = "live-server-password"

SEED_SCRIPT = f"""
import asyncio
from apiforge.kit import Database, Migrations, PasswordHasher
from apiforge.shop.migrations import MIGRATIONS_DIR
from apiforge.shop.settings import ShopSettings
from apiforge.shop.accounts.models import User
from apiforge.shop.catalog.models import Category, Product

async def main() -> None:
    settings = ShopSettings()
    await Migrations(MIGRATIONS_DIR).upgrade(settings.database_url)
    hasher = PasswordHasher(settings.auth)
    database = Database.from_url(settings.database_url, settings.db)
    async with database.transaction() as session:
        for email, role in (("admin@example.com", "admin"), ("customer@example.com", "customer")):
            session.add(User(email=email, role=role, password_hash=await hasher.hash({PASSWORD!r})))
        categories = [Category(name=f"Category {{i}}") for i in range(3)]
        session.add_all(categories)
        await session.flush()
        session.add_all(
            Product(category_id=categories[i % 3].id, name=f"Product {{i}}", description="thing",
                    price_minor=100 * i + 99, stock=i % 5)
            for i in range(30)
        )
    await database.dispose()

asyncio.run(main())
"""


def wait_ready(base_url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60  # a busy 2-core machine starts two workers slowly
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            if httpx.get(f"{base_url}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not become ready within 60 s")


def login(base_url: str, email: str) -> dict[str, str]:
    response = httpx.post(
        f"{base_url}/api/auth/login", json={"email": email, "password": PASSWORD}, timeout=10
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@contextmanager
def scratch_database(kind: str, directory: Path, admin_url: str | None) -> Iterator[str]:
    """A new, empty database: a SQLite file in `directory`, or a PostgreSQL database of its own
    (dropped afterwards)."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{directory / 'shop.db'}"
        return
    if admin_url is None:
        raise ValueError("PostgreSQL needs the admin URL")
    name = f"apiforge_live_{os.getpid()}_{time.monotonic_ns() % 10**6}"
    url = asyncio.run(create_postgres_database(admin_url, name))
    try:
        yield url
    finally:
        asyncio.run(drop_postgres_database(admin_url, name))


@contextmanager
def live_shop_server(
    database_url: str, *, workers: int = 1, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Migrate and seed `database_url`, serve the shop on it, yield the base URL. Rate limits
    are off unless `env` turns them on: the tests on live servers send bursts from one address
    and principal on purpose (the limits' own tests turn them on)."""
    seed_shop_database(database_url, env)
    with shop_process(database_url, workers=workers, env=env) as (_, base_url):
        yield base_url


def seed_shop_database(database_url: str, env: dict[str, str] | None = None) -> None:
    """Migrate `database_url` and add the two users (PASSWORD) and a small catalog."""
    subprocess.run(  # noqa: S603  # our own interpreter and script
        [sys.executable, "-c", SEED_SCRIPT],
        env=_server_env(database_url, env),
        check=True,
        timeout=120,
    )


def _server_env(database_url: str, env: dict[str, str] | None) -> dict[str, str]:
    return {
        **os.environ,
        "APIFORGE_ENVIRONMENT": "test",
        "APIFORGE_DATABASE_URL": database_url,
        "APIFORGE_LOG_LEVEL": "ERROR",
        "APIFORGE_RATELIMIT__ENABLED": "false",
        **(env or {}),
    }


@contextmanager
def shop_process(
    database_url: str, *, workers: int = 1, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """Serve the shop on an already prepared `database_url`; yield the process and base URL
    (the process may be killed inside the block)."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "apiforge.shop.app:create_shop_app",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(  # noqa: S603  # our own interpreter
        command, env=_server_env(database_url, env), cwd=Path(__file__).parent
    )
    try:
        wait_ready(base_url, process)
        yield process, base_url
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=15)
