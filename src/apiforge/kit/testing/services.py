"""Where the test services are and whether they answer. A missing service is an error with
instructions, never a skip: a suite that skips its database proves nothing."""

import os
import socket
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlparse

DEFAULT_POSTGRES_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379"
DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"

HOW_TO_START = (
    "start it with `apiforge services` (it uses the running local servers, or starts "
    "throwaway ones from the installed binaries), or point APIFORGE_TEST_POSTGRES_URL / "
    "APIFORGE_TEST_REDIS_URL at servers you run"
)
SERVICES_SCRIPT = Path(__file__).with_name("services.sh")


class ServiceMissingError(RuntimeError):
    """PostgreSQL or Redis does not answer: the message says how to start it. An error, never
    a skip: a suite that skips its database proves nothing."""


def run_services_script(action: str = "start") -> int:
    """Runs the services script in the current folder (`apiforge services`): makes sure
    PostgreSQL and Redis answer and writes their URLs to `.services/env`, or with "stop"
    ends the throwaway servers it started. Returns its exit code."""
    return subprocess.call(["bash", str(SERVICES_SCRIPT), action])  # noqa: S603, S607  # our own script


def worker_index() -> int:
    """This xdist worker's number (0 without xdist)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(worker.removeprefix("gw") or 0)


def postgres_admin_url() -> str:
    """The PostgreSQL admin URL the tests create their databases with:
    `APIFORGE_TEST_POSTGRES_URL`, else postgres@127.0.0.1:5432."""
    return os.environ.get("APIFORGE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_ADMIN_URL)


def redis_base_url() -> str:
    """The Redis the tests use (`APIFORGE_TEST_REDIS_URL`, else 127.0.0.1:6379); each xdist
    worker takes a logical database of its own."""
    return os.environ.get("APIFORGE_TEST_REDIS_URL", DEFAULT_REDIS_URL)


def rabbitmq_base_url() -> str:
    """The RabbitMQ the tests use (`APIFORGE_TEST_RABBITMQ_URL`, else guest@127.0.0.1:5672).
    Tests share its default vhost: each declares exchanges and queues under names of its own
    and deletes them."""
    return os.environ.get("APIFORGE_TEST_RABBITMQ_URL", DEFAULT_RABBITMQ_URL)


def require_tcp(name: str, url: str) -> None:
    """Raises `ServiceMissingError`, saying how to start it, when `url` does not answer."""
    parsed = urlparse(url.replace("+asyncpg", ""))
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 0
    try:
        with socket.create_connection((host, port), timeout=2):
            return
    except OSError as exc:
        raise ServiceMissingError(
            f"{name} does not answer at {host}:{port}: {HOW_TO_START}"
        ) from exc


def with_database(url: str, database: str) -> str:
    parsed = urlparse(url)
    return parsed._replace(path=f"/{database}").geturl()


async def _admin_execute(admin_url: str, *statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url.replace("postgresql+asyncpg", "postgresql"), timeout=10)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def create_postgres_database(admin_url: str, name: str) -> str:
    """Drop and create `name` (an identifier built by the fixtures, never user input)."""
    _check_name(name)
    await _admin_execute(
        admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'
    )
    return with_database(admin_url, name)


async def drop_postgres_database(admin_url: str, name: str) -> None:
    """Drop `name` if it exists, disconnecting whoever is still on it."""
    _check_name(name)
    await _admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _check_name(name: str) -> None:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unsafe database name {name!r}")


@asynccontextmanager
async def restricted_role(admin_url: str, database_url: str, role: str) -> AsyncIterator[str]:
    """`database_url` as `role`, a login role made for the block without superuser or
    BYPASSRLS, with read and write rights on the database's tables and sequences, dropped
    afterwards: what Row-Level Security tests need, since superusers (the test admin) bypass
    every policy. `role` is an identifier chosen by the test (unique per test process: roles
    are cluster-wide), never user input. Close the role's connections before the block
    ends."""
    _check_name(role)
    database = urlparse(database_url).path.lstrip("/")
    _check_name(database)
    on_database = with_database(admin_url, database)
    await _admin_execute(
        admin_url,
        f"DROP ROLE IF EXISTS {role}",
        f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS",
    )
    try:
        await _admin_execute(
            on_database,
            f'GRANT CONNECT ON DATABASE "{database}" TO {role}',
            f"GRANT USAGE ON SCHEMA public TO {role}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        )
        parsed = urlparse(database_url)
        host = parsed.hostname or "127.0.0.1"
        netloc = f"{role}@{host}:{parsed.port}" if parsed.port else f"{role}@{host}"
        yield parsed._replace(netloc=netloc).geturl()
    finally:
        await _admin_execute(on_database, f"DROP OWNED BY {role}")
        await _admin_execute(admin_url, f"DROP ROLE IF EXISTS {role}")
