"""An app whose Redis is gone: each policy answers by its `on_failure` (open: served, closed:
503 with `Retry-After`, local: counted in process), one warning per outage rather than per
request, a hung Redis costs one bounded wait instead of stalling every request, and every
decision is in the metrics by policy and outcome."""

import logging
import time

import pytest

from apiforge.kit.testing import bearer_headers
from tests.kit.metrics.scrape import scrape, value
from tests.kit.ratelimit.apps import limited_app, running
from tests.kit.ratelimit.helpers import closed_port_url, hung_redis

DECISIONS = "apiforge_ratelimit_decisions_total"


def down_app(database_url: str, redis_url: str | None = None, **overrides: object):  # type: ignore[no-untyped-def]  # FastAPI
    limits = {"timeout_seconds": 0.2, "retry_after_seconds": 5.0}
    return limited_app(
        database_url,
        redis_url=redis_url or closed_port_url(),
        ratelimit=limits,
        cache={"enabled": False},  # the limiter alone talks to this Redis
        **overrides,
    )


async def test_fail_open_serves_counts_and_warns_once(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = down_app(sqlite_url)
    with caplog.at_level(logging.WARNING, logger="apiforge.ratelimit"):
        async with running(app) as client:
            headers = bearer_headers(app, 1)
            answers = [await client.get("/me", headers=headers) for _ in range(20)]
            samples = await scrape(client)
    assert {a.status_code for a in answers} == {200}
    assert all("ratelimit" not in a.headers for a in answers)  # nothing counted, nothing said
    assert value(samples, DECISIONS, policy="by_principal", outcome="failed_open") == 20
    warnings = [r for r in caplog.records if r.name == "apiforge.ratelimit"]
    assert len(warnings) == 1
    assert "unavailable" in warnings[0].getMessage()


async def test_fail_closed_answers_503_with_retry_after(sqlite_url: str) -> None:
    app = down_app(sqlite_url)
    async with running(app) as client:
        refused = await client.get("/closed")
        samples = await scrape(client)
    assert refused.status_code == 503
    assert refused.json()["code"] == "ratelimit.unavailable"
    assert refused.headers["retry-after"] == "5"  # the limiter's pause before it asks again
    assert value(samples, DECISIONS, policy="closed_ip", outcome="failed_closed") == 1


async def test_fail_local_counts_in_process(sqlite_url: str) -> None:
    app = down_app(sqlite_url)
    async with running(app) as client:
        codes = [(await client.post("/sign-in/alice")).status_code for _ in range(3)]
        samples = await scrape(client)
    assert codes == [200, 200, 429]  # 2 per minute, as with Redis
    assert value(samples, DECISIONS, policy="sign_in", outcome="fallback_allowed") == 2
    assert value(samples, DECISIONS, policy="sign_in", outcome="fallback_limited") == 1


async def test_a_hung_redis_does_not_stall_every_request(sqlite_url: str) -> None:
    """30 requests against a Redis that never answers: the first waits the 0.2 s timeout, the
    rest are decided at once while the limiter rests (30 x 0.2 s would be 6 s)."""
    async with hung_redis() as url:
        app = down_app(sqlite_url, redis_url=url)
        async with running(app) as client:
            headers = bearer_headers(app, 1)
            started = time.monotonic()
            answers = [await client.get("/me", headers=headers) for _ in range(30)]
            elapsed = time.monotonic() - started
    assert {a.status_code for a in answers} == {200}
    print(f"30 requests against a hung Redis: {elapsed:.2f} s")
    assert elapsed < 3.0


async def test_decisions_are_counted_by_policy_and_outcome(sqlite_url: str) -> None:
    app = limited_app(sqlite_url)
    async with running(app) as client:
        for _ in range(5):
            await client.get("/ip")
        samples = await scrape(client)
    assert value(samples, DECISIONS, policy="by_ip", outcome="allowed") == 3
    assert value(samples, DECISIONS, policy="by_ip", outcome="limited") == 2
