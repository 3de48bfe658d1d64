"""`apiforge check`: the findings table and its exit code, run in process against a real
PostgreSQL (its live max_connections), a SQLite file, an unreachable server and a configuration
the Settings validator refuses."""

import asyncio

import pytest
from sqlalchemy import text

from apiforge.kit.db.engine import create_engine
from apiforge.kit.settings import DatabaseSettings
from tests.cli.conftest import PRODUCTION_KEY, invoke

PRODUCTION = {"APIFORGE_ENVIRONMENT": "production", "APIFORGE_SECRET_KEY": PRODUCTION_KEY}


def show(url: str, name: str) -> int:
    async def read() -> int:
        engine = create_engine(url, DatabaseSettings(pool_size=1))
        try:
            async with engine.connect() as connection:
                return int((await connection.execute(text(f"SHOW {name}"))).scalar_one())
        finally:
            await engine.dispose()

    return asyncio.run(read())


def rows(out: str) -> dict[str, str]:
    """CHECK -> 'severity message', continuation lines joined."""
    table: dict[str, str] = {}
    topic = ""
    for line in out.splitlines()[1:]:
        if not line.strip():
            break
        if line.startswith(" "):
            table[topic] += " " + line.strip()
            continue
        severity, rest = line[:10].strip(), line[10:]
        topic, message = rest[:13].strip(), rest[13:]
        table[topic] = f"{severity} {message}"
    return table


def test_a_refused_configuration_is_one_error(clean_env: dict[str, str]) -> None:
    code, out, _ = invoke(["check"], clean_env | {"APIFORGE_ENVIRONMENT": "production"})
    assert code == 1
    assert rows(out) == {
        "settings": "error refused: invalid settings: APIFORGE_SECRET_KEY must be set to a "
        "random value in production (for example: python -c 'import secrets; "
        "print(secrets.token_urlsafe(48))')"
    }
    assert out.rstrip().endswith("1 error(s), 0 warning(s), 0 ok")


def test_pools_larger_than_the_database_are_an_error(
    clean_env: dict[str, str], postgres_admin: str
) -> None:
    env = (
        clean_env
        | PRODUCTION
        | {
            "APIFORGE_DATABASE_URL": postgres_admin,
            "APIFORGE_DB__POOL_SIZE": "50",
            "APIFORGE_REDIS_URL": "redis://127.0.0.1:6379/0",
        }
    )
    code, out, _ = invoke(["check", "--workers", "4", "--pods", "2"], env)
    assert code == 1
    max_connections = show(postgres_admin, "max_connections")
    reserved = show(postgres_admin, "superuser_reserved_connections")
    budget = max_connections - reserved - 5
    database = rows(out)["database"]
    assert database.startswith(
        f"error 4 workers x 2 pods x (50 pool + 0 overflow) = 400 connections; the database "
        f"takes {budget} (max_connections {max_connections} - superuser_reserved_connections "
        f"{reserved} - headroom 5); open now:"
    )
    assert database.endswith(
        f"Fix: pool_size + max_overflow <= {budget // 8} per process, or fewer processes"
    )
    assert out.rstrip().endswith("1 error(s), 0 warning(s), 10 ok")


def test_pools_that_fit_pass(clean_env: dict[str, str], postgres_admin: str) -> None:
    env = (
        clean_env
        | PRODUCTION
        | {
            "APIFORGE_DATABASE_URL": postgres_admin,
            "APIFORGE_DB__POOL_SIZE": "5",
            "APIFORGE_SERVER__WORKERS": "2",  # the default for --workers
            "APIFORGE_REDIS_URL": "redis://127.0.0.1:6379/0",
        }
    )
    code, out, _ = invoke(["check", "--headroom", "10"], env)
    assert code == 0
    assert rows(out)["database"].startswith("ok 2 workers x 1 pods x (5 pool + 0 overflow) = 10")
    assert "- headroom 10)" in rows(out)["database"]
    assert out.rstrip().endswith("0 error(s), 0 warning(s), 11 ok")


@pytest.mark.parametrize(
    ("args", "code", "severity"),
    [([], 0, "ok"), (["--workers", "2"], 0, "warning"), (["--pods", "2"], 1, "error")],
)
def test_sqlite(
    args: list[str], code: int, severity: str, clean_env: dict[str, str], sqlite_url: str
) -> None:
    env = clean_env | PRODUCTION | {"APIFORGE_DATABASE_URL": sqlite_url}
    exit_code, out, _ = invoke(["check", *args], env)
    assert exit_code == code
    assert rows(out)["database"].startswith(f"{severity} SQLite")


def test_an_unreachable_database_is_an_error(clean_env: dict[str, str]) -> None:
    url = "postgresql+asyncpg://app:hunter2-password@127.0.0.1:1/app"
    env = clean_env | PRODUCTION | {"APIFORGE_DATABASE_URL": url}
    code, out, _ = invoke(["check"], env)
    assert code == 1
    database = rows(out)["database"]
    assert database.startswith(
        "error cannot read the limits of postgresql+asyncpg://app:***@127.0.0.1:1/app:"
    )
    assert "hunter2" not in out


def test_development_shows_its_warnings(clean_env: dict[str, str], sqlite_url: str) -> None:
    env = clean_env | {"APIFORGE_ENVIRONMENT": "development", "APIFORGE_DATABASE_URL": sqlite_url}
    code, out, _ = invoke(["check"], env)
    assert code == 0
    table = rows(out)
    assert table["environment"].startswith("warning development:")
    assert table["secret key"] == "warning the public development key signs tokens"
    assert table["api docs"] == "ok on (not production)"
