"""The OpenAPI schema is the contract: schemathesis sends valid and invalid input to every
operation of a live server (real HTTP, uvicorn), as an anonymous caller, a customer and an
admin, on SQLite and on PostgreSQL. No answer may be a 5xx, and every answer must match the
schema the service publishes."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis.openapi
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from apiforge.kit.settings import Environment, Settings
from apiforge.kit.testing.services import create_postgres_database, drop_postgres_database
from apiforge.shop.app import create_shop_app

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
MAX_EXAMPLES = int(os.environ.get("APIFORGE_CONTRACT_EXAMPLES", "25"))
PASSWORD = "contract-test-password"

SEED = f"""
import asyncio
from apiforge.kit.db.database import Database
from apiforge.kit.db.migrations import upgrade
from apiforge.kit.auth.passwords import PasswordHasher
from apiforge.kit.settings import Settings
from apiforge.shop.migrations import MIGRATIONS_DIR
from apiforge.shop.accounts.models import User
from apiforge.shop.catalog.models import Category, Product

async def main() -> None:
    settings = Settings()
    await upgrade(MIGRATIONS_DIR, settings.database_url)
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_ready(base_url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            if httpx.get(f"{base_url}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not become ready within 30 s")


def _login(base_url: str, email: str) -> dict[str, str]:
    response = httpx.post(
        f"{base_url}/api/auth/login", json={"email": email, "password": PASSWORD}, timeout=10
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def live_shop(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    import asyncio

    database_name = f"apiforge_contract_{os.getpid()}"
    admin_url: str | None = None
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('contract') / 'shop.db'}"
    else:
        admin_url = request.getfixturevalue("postgres_admin")
        url = asyncio.run(create_postgres_database(admin_url, database_name))
    env = {
        **os.environ,
        "APIFORGE_ENVIRONMENT": "test",
        "APIFORGE_DATABASE_URL": url,
        "APIFORGE_LOG_LEVEL": "ERROR",
    }
    subprocess.run([sys.executable, "-c", SEED], env=env, check=True, timeout=120)  # noqa: S603
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(  # noqa: S603  # our own interpreter and module
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "apiforge.shop.app:create_shop_app",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=Path(__file__).parent,
    )
    try:
        _wait_ready(base_url, process)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=15)
        if admin_url is not None:
            asyncio.run(drop_postgres_database(admin_url, database_name))


@pytest.fixture(scope="session")
def identities(live_shop: str) -> dict[str, dict[str, str]]:
    return {
        "anonymous": {},
        "customer": _login(live_shop, "customer@example.com"),
        "admin": _login(live_shop, "admin@example.com"),
    }


@pytest.fixture(scope="session")
def shop_schema(live_shop: str) -> Any:
    return schemathesis.openapi.from_url(f"{live_shop}/openapi.json", timeout=10)


def _operations() -> list[Any]:
    """(METHOD, path, mode) for every documented operation, read from the app without serving
    it. Invalid input is generated only where the operation takes some (parameters or body)."""
    document = create_shop_app(Settings(environment=Environment.TEST, _env_file=None)).openapi()
    cases: list[Any] = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            takes_input = bool(operation.get("parameters") or operation.get("requestBody"))
            modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if takes_input else [])
            cases.extend(
                pytest.param(method.upper(), path, mode, id=f"{method.upper()} {path} {mode}")
                for mode in modes
            )
    return cases


# schemathesis's own pytest integration (from_fixture) breaks on pytest 9 (it writes a private
# node attribute that no longer exists), so each operation is driven with its Hypothesis
# strategy directly: same generation, same checks.
@pytest.mark.parametrize(("method", "path", "mode"), _operations())
def test_no_server_error_and_schema_holds(
    shop_schema: Any,
    identities: dict[str, dict[str, str]],
    method: str,
    path: str,
    mode: GenerationMode,
) -> None:
    operation = shop_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,
    )
    def run(case: Any) -> None:
        for headers in identities.values():
            case.call_and_validate(headers=headers, checks=CHECKS)

    run()
