"""The resilient outbound client against a real fault server on loopback (latency, hang, reset,
5xx bursts, Retry-After, slow and large bodies, redirects): every call returns or fails within
its budget, only idempotent requests are retried, and the breaker opens and recovers."""

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import pytest

from apiforge.kit.breaker import BreakerState
from apiforge.kit.http_client import (
    Upstream,
    UpstreamCircuitOpenError,
    UpstreamConnectionError,
    UpstreamTimeoutError,
)
from apiforge.kit.settings import HttpClientSettings
from tests.kit.cache.test_contract import until
from tests.kit.http_client.fault_server import FaultServer

# Loose on purpose: the machine is shared; the claim is "bounded", not "fast".
SLACK = 2.0


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


def circuit_of(client: Upstream) -> BreakerState:
    """Read through a call, so mypy does not keep the state narrowed across awaits."""
    return client.circuit


def policy(**overrides: object) -> HttpClientSettings:
    values: dict[str, object] = {
        "budget_seconds": 3.0,
        "backoff_base_seconds": 0.01,
        "backoff_max_seconds": 0.05,
        "breaker_failures": 50,
        "breaker_failure_rate": None,
    }
    return HttpClientSettings.model_validate(values | overrides)


@pytest.fixture
async def upstream(server: FaultServer) -> AsyncIterator[Upstream]:
    client = Upstream("faults", policy(), base_url=server.url)
    yield client
    await client.aclose()


async def test_a_healthy_call_passes(upstream: Upstream, server: FaultServer) -> None:
    response = await upstream.request("GET", "/ok")
    assert (response.status_code, response.content) == (200, b"ok")
    assert upstream.stats.calls == 1
    assert upstream.stats.statuses == {200: 1}


async def test_latency_within_the_budget_is_waited_for(upstream: Upstream) -> None:
    response = await upstream.request("GET", "/latency/200")
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/hang", "/latency/5000", "/slow-body/100"])
async def test_a_call_fails_within_its_budget(
    upstream: Upstream, server: FaultServer, path: str
) -> None:
    started = time.monotonic()
    with pytest.raises(UpstreamTimeoutError) as caught:
        await upstream.request("GET", path, budget=0.5)
    assert time.monotonic() - started < 0.5 + SLACK
    assert caught.value.status == 504
    assert upstream.stats.timeouts == 1
    assert server.hits[path] == 1  # one attempt used the whole budget


async def test_resets_are_retried_for_get_then_fail(
    upstream: Upstream, server: FaultServer
) -> None:
    with pytest.raises(UpstreamConnectionError):
        await upstream.request("GET", "/reset")
    assert server.hits["/reset"] == 3
    assert upstream.stats.retries == 2


async def test_a_post_is_sent_once(upstream: Upstream, server: FaultServer) -> None:
    with pytest.raises(UpstreamConnectionError):
        await upstream.request("POST", "/reset", content=b"{}")
    assert server.hits["/reset"] == 1
    response = await upstream.request("POST", "/status/503")
    assert response.status_code == 503
    assert server.hits["/status/503"] == 1


async def test_a_post_with_an_idempotency_key_is_retried(
    upstream: Upstream, server: FaultServer
) -> None:
    response = await upstream.request(
        "POST", "/burst/2/a", content=b"{}", headers={"Idempotency-Key": "k1"}
    )
    assert response.status_code == 200
    assert server.hits["/burst/2/a"] == 3
    assert all(h.get("idempotency-key") == "k1" for h in server.headers)


async def test_a_5xx_burst_is_ridden_out(upstream: Upstream, server: FaultServer) -> None:
    response = await upstream.request("GET", "/burst/2/b")
    assert response.status_code == 200
    assert server.hits["/burst/2/b"] == 3
    assert upstream.stats.statuses == {503: 2, 200: 1}


async def test_a_burst_longer_than_the_attempts_returns_the_last_answer(
    upstream: Upstream, server: FaultServer
) -> None:
    response = await upstream.request("GET", "/burst/5/c")
    assert response.status_code == 503
    assert server.hits["/burst/5/c"] == 3


async def test_4xx_is_final(upstream: Upstream, server: FaultServer) -> None:
    response = await upstream.request("GET", "/status/404")
    assert response.status_code == 404
    assert server.hits["/status/404"] == 1


async def test_retry_after_is_honoured(upstream: Upstream, server: FaultServer) -> None:
    response = await upstream.request("GET", "/status/503?retry_after=1", attempts=2)
    assert response.status_code == 503
    first, second = server.times["/status/503"]
    assert second - first >= 0.9  # waited as asked, not the 10-50 ms backoff


async def test_a_retry_after_past_the_budget_or_cap_is_not_waited_for(
    upstream: Upstream, server: FaultServer
) -> None:
    started = time.monotonic()
    response = await upstream.request("GET", "/status/429?retry_after=60")
    assert response.status_code == 429
    assert server.hits["/status/429"] == 1
    assert time.monotonic() - started < SLACK


async def test_bodies_are_read_up_to_the_cap(upstream: Upstream) -> None:
    response = await upstream.request("GET", "/big/100000", max_body_bytes=1000)
    assert len(response.content) == 1000
    assert upstream.stats.truncated == 1
    whole = await upstream.request("GET", "/big/5000")
    assert len(whole.content) == 5000


async def test_redirects_are_not_followed(upstream: Upstream, server: FaultServer) -> None:
    response = await upstream.request("GET", "/redirect")
    assert response.status_code == 302
    assert server.hits["/ok"] == 0


async def test_the_concurrency_cap_queues_calls_within_their_budget(server: FaultServer) -> None:
    capped = Upstream("capped", policy(max_concurrency=1), base_url=server.url)
    try:
        hung = asyncio.create_task(capped.request("GET", "/hang", budget=3.0))
        await until(lambda: server.hits["/hang"] > 0)
        with pytest.raises(UpstreamTimeoutError):
            await capped.request("GET", "/ok", budget=0.3)
        assert server.hits["/ok"] == 0  # it never got a slot, so never reached the server
        hung.cancel()
        with pytest.raises(asyncio.CancelledError):
            await hung
        assert (await capped.request("GET", "/ok")).status_code == 200
    finally:
        await capped.aclose()


async def test_the_breaker_opens_after_consecutive_failures_and_recovers(
    server: FaultServer,
) -> None:
    client = Upstream(
        "flaky",
        policy(attempts=1, breaker_failures=3, breaker_cooldown_seconds=0.3),
        base_url=server.url,
    )
    try:
        for _ in range(3):
            assert (await client.request("GET", "/status/500")).status_code == 500
        assert circuit_of(client) is BreakerState.OPEN
        with pytest.raises(UpstreamCircuitOpenError) as caught:
            await client.request("GET", "/ok")
        assert caught.value.status == 503
        assert server.hits["/ok"] == 0  # refused without a call
        await asyncio.sleep(0.35)
        # The trial fails: open again for another cool-down.
        assert (await client.request("GET", "/status/500")).status_code == 500
        assert circuit_of(client) is BreakerState.OPEN
        with pytest.raises(UpstreamCircuitOpenError):
            await client.request("GET", "/ok")
        await asyncio.sleep(0.35)
        assert (await client.request("GET", "/ok")).status_code == 200
        assert circuit_of(client) is BreakerState.CLOSED
        assert client.stats.rejected == 2
    finally:
        await client.aclose()


async def test_the_breaker_opens_on_a_failure_rate(server: FaultServer) -> None:
    client = Upstream(
        "half-bad",
        policy(attempts=1, breaker_failures=100, breaker_failure_rate=0.5, breaker_window=4),
        base_url=server.url,
    )
    try:
        for path in ("/ok", "/status/500", "/ok", "/status/500"):
            await client.request("GET", path)
        assert circuit_of(client) is BreakerState.OPEN
    finally:
        await client.aclose()


async def test_hangs_open_the_breaker(server: FaultServer) -> None:
    client = Upstream(
        "hung", policy(breaker_failures=2, breaker_cooldown_seconds=30), base_url=server.url
    )
    try:
        for _ in range(2):
            with pytest.raises(UpstreamTimeoutError):
                await client.request("GET", "/hang", budget=0.2)
        started = time.monotonic()
        with pytest.raises(UpstreamCircuitOpenError):
            await client.request("GET", "/hang", budget=5)
        assert time.monotonic() - started < SLACK  # refused at once, not after a timeout
    finally:
        await client.aclose()
