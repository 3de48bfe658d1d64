"""The shop as the fault tests serve it: Uvicorn (or `apiforge serve --server ...`) in a
subprocess (uvloop, real sockets, as in production) on a database migrated and seeded by
tests/live_server.py's script, its stderr kept in a file so that a test can look for
tracebacks; and a catalog large enough that random reads mostly miss the in-process cache and
reach Redis or the database."""

import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import asyncpg
import httpx

from apiforge.bench.targets import free_port
from apiforge.kit.testing.services import create_postgres_database, drop_postgres_database
from tests.live_server import SEED_SCRIPT

STOP_TIMEOUT = 15
# Start-up imports the whole service: on a two-core machine busy with other test runs that
# has been seen to take over 30 s.
START_TIMEOUT = 120


@asynccontextmanager
async def scratch_postgres(admin_url: str) -> AsyncIterator[str]:
    """An empty database of the test's own on the server of `admin_url`, dropped after."""
    name = f"apiforge_faults_{uuid.uuid4().hex[:12]}"
    url = await create_postgres_database(admin_url, name)
    try:
        yield url
    finally:
        await drop_postgres_database(admin_url, name)


@contextmanager
def served_shop(
    database_url: str,
    log: Path,
    *,
    workers: int = 1,
    env: dict[str, str] | None = None,
    server: str | None = None,
) -> Iterator[str]:
    """Migrates and seeds `database_url` (two users, 30 products), serves the shop on it and
    yields the base URL. Warnings and errors go to `log` as JSON lines. `server` ("uvicorn",
    "granian") serves it with `apiforge serve --server`, "default" with `apiforge serve` as
    it is; None: plain Uvicorn."""
    with served_shop_process(database_url, log, workers=workers, env=env, server=server) as (
        base_url,
        _,
    ):
        yield base_url


@contextmanager
def served_shop_process(
    database_url: str,
    log: Path,
    *,
    workers: int = 1,
    env: dict[str, str] | None = None,
    server: str | None = None,
) -> Iterator[tuple[str, "subprocess.Popen[bytes]"]]:
    """`served_shop`, yielding the server's process too (its pid, its children)."""
    full_env = {
        **os.environ,
        "APIFORGE_ENVIRONMENT": "test",
        "APIFORGE_DATABASE_URL": database_url,
        "APIFORGE_LOG_LEVEL": "WARNING",
        "APIFORGE_ACCESS_LOG": "false",
        # The faults are the subject; the load comes from one address (limits: their own tests).
        "APIFORGE_RATELIMIT__ENABLED": "false",
        **(env or {}),
    }
    subprocess.run(  # noqa: S603  # our own interpreter and script
        [sys.executable, "-c", SEED_SCRIPT], env=full_env, check=True, timeout=120
    )
    port = free_port()
    if server is None:
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "apiforge.shop.app:create_shop_app",
        ]
        command += ["--port", str(port), "--workers", str(workers), "--no-access-log"]
        command += ["--log-level", "warning"]
    else:
        command = [sys.executable, "-m", "apiforge", "serve"]
        command += [] if server == "default" else ["--server", server]
        command += ["--port", str(port), "--workers", str(workers)]
    with log.open("wb") as stderr:
        process = subprocess.Popen(command, env=full_env, stderr=stderr)  # noqa: S603
        try:
            base_url = f"http://127.0.0.1:{port}"
            _wait_ready(base_url, process, log)
            yield base_url, process
        finally:
            process.terminate()
            process.wait(timeout=STOP_TIMEOUT)


def _wait_ready(base_url: str, process: "subprocess.Popen[bytes]", log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"the shop exited with {process.returncode}: {log.read_text()[-2000:]}"
            )
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base_url}/health/ready", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the shop did not become ready within {START_TIMEOUT} s")


async def add_products(database_url: str, count: int) -> list[int]:
    """`count` more live products in stock, in the seeded first category; their ids."""
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        rows = await connection.fetch(
            "INSERT INTO products (category_id, name, description, price_minor, stock,"
            " created_at, updated_at)"
            " SELECT (SELECT min(id) FROM categories), 'Fault product ' || n, 'a thing',"
            " 100 + n, 1000, now(), now() FROM generate_series(1, $1) AS n RETURNING id",
            count,
        )
    finally:
        await connection.close()
    return [int(row["id"]) for row in rows]


def tracebacks(log: Path) -> list[str]:
    """The log lines that carry a traceback (an unhandled error, or worse)."""
    return [line for line in log.read_text().splitlines() if "Traceback" in line]
