"""Each production-readiness finding, from settings built inline; the pool arithmetic from
given limits (the live read is tested in tests/kit/db/test_capacity.py and tests/cli/)."""

import os
from pathlib import Path
from typing import Any

import pytest

from apiforge.kit.db.capacity import ConnectionLimits
from apiforge.kit.readiness import (
    Deployment,
    Finding,
    Severity,
    database_findings,
    pool_finding,
    settings_findings,
    sqlite_finding,
)
from apiforge.kit.settings import DatabaseSettings, Environment, Settings
from apiforge.kit.testing import fresh_database, restricted_role, worker_index

KEY = "k" * 48
POSTGRES = "postgresql+asyncpg://app@db/app"


def production(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"environment": Environment.PRODUCTION, "secret_key": KEY}
    return Settings(_env_file=None, **(values | overrides))


def development(**overrides: Any) -> Settings:
    return Settings(_env_file=None, environment=Environment.DEVELOPMENT, **overrides)


def finding(settings: Settings, topic: str, deployment: Deployment | None = None) -> Finding:
    findings = settings_findings(settings, deployment or Deployment(workers=1))
    (found,) = [f for f in findings if f.topic == topic]
    return found


def test_a_plain_production_configuration_is_all_ok() -> None:
    findings = settings_findings(production(redis_url="redis://r"), Deployment(workers=4, pods=3))
    assert {f.severity for f in findings} == {Severity.OK}
    assert [f.topic for f in findings] == [
        *("environment", "secret key", "debug", "api docs", "metrics", "profiling"),
        *("tracing", "redis", "rate limits", "shutdown"),
    ]


def test_development_is_flagged_with_its_public_key() -> None:
    assert finding(development(), "environment").severity is Severity.WARNING
    key = finding(development(), "secret key")
    assert (key.severity, key.message) == (
        Severity.WARNING,
        "the public development key signs tokens",
    )
    short = finding(development(secret_key="short"), "secret key")
    assert short.severity is Severity.WARNING
    assert short.message == "5 bytes; production needs at least 32"
    assert finding(production(), "secret key").message == "set, 48 bytes"


@pytest.mark.parametrize(
    ("overrides", "topic", "message"),
    [
        ({"log_level": "DEBUG"}, "debug", "log level DEBUG"),
        ({"db": {"echo": True}}, "debug", "SQL echo on"),
        ({"expose_docs": True}, "api docs", "public at /docs and /openapi.json"),
        ({"metrics": {"expose": True}}, "metrics", "served on the main port at /metrics"),
        ({"metrics": {"enabled": False}}, "metrics", "collection off"),
        ({"profiling": {"enabled": True}}, "profiling", "role 'admin' can profile any request"),
        ({"tracing": {"enabled": True, "sample_ratio": 1.0}}, "tracing", "sample_ratio 1.0"),
        ({"tracing": {"enabled": True, "exporter": "console"}}, "tracing", "console exporter"),
    ],
)
def test_production_warnings(overrides: dict[str, Any], topic: str, message: str) -> None:
    found = finding(production(**overrides), topic)
    assert found.severity is Severity.WARNING
    assert message in found.message
    # The same setting outside production is what development wants: ok.
    assert finding(development(**overrides), topic).severity is Severity.OK


def test_metrics_on_their_own_port_and_tracing_at_a_low_ratio_are_ok() -> None:
    settings = production(metrics={"port": 9100}, tracing={"enabled": True, "sample_ratio": 0.05})
    assert finding(settings, "metrics").message == "port 9100, summed over the workers"
    assert finding(settings, "tracing") == Finding(
        Severity.OK, "tracing", "otlp to http://127.0.0.1:4318, sample ratio 0.05"
    )
    assert (
        finding(development(), "metrics").message == "on the main port at /metrics (not production)"
    )


def test_several_processes_without_redis_is_a_warning() -> None:
    several = finding(production(), "redis", Deployment(workers=2, pods=2))
    assert several.severity is Severity.WARNING
    assert several.message.startswith("none with 4 processes: each has its own cache")
    assert "each counts rate limits on its own" in several.message
    assert finding(production(), "redis", Deployment(workers=1)).severity is Severity.OK


def test_rate_limits_off_in_production_is_a_warning() -> None:
    off = finding(production(ratelimit={"enabled": False}), "rate limits")
    assert off.severity is Severity.WARNING
    assert off.message.startswith("off (APIFORGE_RATELIMIT__ENABLED=false)")
    assert finding(development(ratelimit={"enabled": False}), "rate limits").severity is (
        Severity.OK
    )


def test_rate_limits_name_where_the_client_address_comes_from() -> None:
    peer = finding(production(), "rate limits").message
    assert "the socket peer (behind a proxy, set APIFORGE_PROXY__TRUSTED_HOPS" in peer
    hops = finding(production(proxy={"trusted_hops": 1}), "rate limits").message
    assert hops == "on; the client is the address 1 trusted hop(s) put in x-forwarded-for"


def test_shutdown_states_the_drain() -> None:
    found = finding(production(server={"drain_timeout_seconds": 25}), "shutdown")
    assert "up to 25 s" in found.message
    assert "preStop pause + 25 s" in found.message


def test_sqlite_is_one_process() -> None:
    settings = development()
    assert sqlite_finding(settings, Deployment(workers=1)).severity is Severity.OK
    two = sqlite_finding(settings, Deployment(workers=2))
    assert two.severity is Severity.WARNING
    assert "one writer at a time" in two.message
    assert sqlite_finding(settings, Deployment(workers=1, pods=2)).severity is Severity.ERROR


def limits(max_connections: int = 100, reserved: int = 0, other: int = 0) -> ConnectionLimits:
    return ConnectionLimits(
        max_connections=max_connections,
        superuser_reserved=3,
        reserved=reserved,
        application_connections=7,
        other_connections=other,
    )


def test_the_pool_rule_and_its_arithmetic() -> None:
    settings = production(database_url=POSTGRES, db={"pool_size": 10, "max_overflow": 2})
    fits = pool_finding(settings, Deployment(workers=2, pods=3), limits())
    assert fits == Finding(
        Severity.OK,
        "database",
        "2 workers x 3 pods x (10 pool + 2 overflow) = 72 connections; the database takes 92 "
        "(max_connections 100 - superuser_reserved_connections 3 - headroom 5); open now: "
        "7 apiforge, 0 other",
    )
    # Exactly at the budget still fits: 92 = 4 x 23.
    exact = production(database_url=POSTGRES, db={"pool_size": 23})
    assert pool_finding(exact, Deployment(workers=4), limits()).severity is Severity.OK
    over = pool_finding(exact, Deployment(workers=4, headroom=6), limits())
    assert over.severity is Severity.ERROR
    assert over.message.endswith(
        "Fix: pool_size + max_overflow <= 22 per process, or fewer processes"
    )


def test_pool_findings_count_reservations_and_other_clients() -> None:
    settings = production(database_url=POSTGRES, db={"pool_size": 20})
    crowded = pool_finding(settings, Deployment(workers=4), limits(other=20))
    assert crowded.severity is Severity.WARNING
    assert crowded.message.endswith("Fits, but not with the other clients' connections open now")
    reserved = pool_finding(settings, Deployment(workers=1), limits(reserved=10))
    assert "- reserved_connections 10 -" in reserved.message
    hopeless = pool_finding(settings, Deployment(workers=64, pods=10), limits())
    assert hopeless.severity is Severity.ERROR
    assert "a pooler such as PgBouncer" in hopeless.message


def _rls(findings: list[Finding]) -> list[Severity]:
    return [f.severity for f in findings if f.topic == "row-level security"]


async def test_rls_is_checked_against_the_role_that_connects(
    postgres_admin: str, tmp_path: Path
) -> None:
    on = DatabaseSettings(row_level_security=True)
    name = f"check_rls_{os.getpid()}"
    async with fresh_database(
        "postgres", directory=tmp_path, name=name, postgres_admin=postgres_admin
    ) as url:
        as_admin = await database_findings(
            production(database_url=url, db=on), Deployment(workers=1)
        )
        assert _rls(as_admin) == [Severity.ERROR]  # a superuser skips every policy
        async with restricted_role(postgres_admin, url, f"check_rls_{worker_index()}") as plain:
            as_plain = await database_findings(
                production(database_url=plain, db=on), Deployment(workers=1)
            )
        off = await database_findings(production(database_url=url), Deployment(workers=1))
    assert _rls(as_plain) == [Severity.OK]
    assert _rls(off) == []


async def test_rls_on_sqlite_is_a_warning(tmp_path: Path) -> None:
    settings = production(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        db=DatabaseSettings(row_level_security=True),
    )
    assert _rls(await database_findings(settings, Deployment(workers=1))) == [Severity.WARNING]
