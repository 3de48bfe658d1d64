"""Rate limits over HTTP on a tiny app: 429 problem+json with exact `Retry-After` on a pinned
clock, counts per principal (exact under 200 concurrent requests in one process), per client
address (a forged X-Forwarded-For changes nothing; one trusted hop is followed), per the
service's own key, and nothing at all when limits are off."""

import asyncio

import httpx

from apiforge.kit import app_state
from apiforge.kit.testing import bearer_headers
from tests.kit.ratelimit.apps import SIGN_IN, client_from, limited_app, pin, running
from tests.kit.ratelimit.conftest import PinnedClock


async def statuses(client: httpx.AsyncClient, path: str, n: int, **kw: object) -> list[int]:
    return [(await client.get(path, **kw)).status_code for _ in range(n)]  # type: ignore[arg-type]  # headers only


async def test_429_is_problem_json_with_an_exact_retry_after(sqlite_url: str) -> None:
    app, clock = limited_app(sqlite_url), PinnedClock()
    async with running(app) as client:
        pin(app, clock)
        assert await statuses(client, "/ip", 3) == [200, 200, 200]
        clock.advance(2.5)
        refused = await client.get("/ip")
        clock.advance(6.7)  # 9.2 s after the window opened
        last = await client.get("/ip")
        clock.advance(0.8)  # exactly 10 s: a new window
        again = await client.get("/ip")
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    body = refused.json()
    assert (body["code"], body["status"]) == ("ratelimit.exceeded", 429)
    assert body["detail"] == "Too many requests; try again in 8 s."
    assert refused.headers["retry-after"] == "8"  # 7.5 s, rounded up: never early, < 1 s late
    assert last.headers["retry-after"] == "1"  # 0.8 s
    assert again.status_code == 200


async def test_headers_on_success_too_even_on_a_route_own_response(sqlite_url: str) -> None:
    app, clock = limited_app(sqlite_url), PinnedClock()
    async with running(app) as client:
        pin(app, clock)
        first = await client.get("/ip")
        clock.advance(4)
        second = await client.get("/ip")
        free = await client.get("/free")
    assert first.text == "ok"
    policy = '"by_ip/10s";q=3;w=10, "by_ip/1h";q=100;w=3600'
    assert first.headers["ratelimit-policy"] == second.headers["ratelimit-policy"] == policy
    assert first.headers["ratelimit"] == '"by_ip/10s";r=2;t=10, "by_ip/1h";r=99;t=3600'
    assert second.headers["ratelimit"] == '"by_ip/10s";r=1;t=6, "by_ip/1h";r=98;t=3596'
    assert "retry-after" not in second.headers
    assert "ratelimit" not in free.headers  # an unlimited route says nothing


async def test_one_principal_exact_under_concurrency_another_unaffected(sqlite_url: str) -> None:
    """The in-process backend within one worker: 200 concurrent requests of one principal
    against 50 per 10 s -> exactly 50 answered 200 and 150 answered 429."""
    app = limited_app(sqlite_url)
    async with running(app) as client:
        alice, bob = bearer_headers(app, 1), bearer_headers(app, 2)
        answers = await asyncio.gather(*(client.get("/me", headers=alice) for _ in range(200)))
        other = await client.get("/me", headers=bob)
    codes = [answer.status_code for answer in answers]
    assert (codes.count(200), codes.count(429)) == (50, 150)
    assert other.status_code == 200
    assert other.headers["ratelimit"] == '"by_principal/10s";r=49;t=10'


async def test_a_forged_forwarded_for_neither_splits_nor_resets(sqlite_url: str) -> None:
    app = limited_app(sqlite_url)  # no trusted proxy
    async with running(app) as client:
        forged = [
            await client.get("/ip", headers={"x-forwarded-for": f"203.0.113.{i}"}) for i in range(3)
        ]
        after = [
            await client.get(
                "/ip", headers={"x-forwarded-for": "198.51.100.7", "forwarded": f"for=192.0.2.{i}"}
            )
            for i in range(3)
        ]
        plain = await client.get("/ip")
    assert [r.status_code for r in forged] == [200, 200, 200]
    assert [r.status_code for r in after] == [429, 429, 429]
    assert plain.status_code == 429


async def test_one_trusted_hop_counts_each_forwarded_client(sqlite_url: str) -> None:
    app = limited_app(sqlite_url, proxy={"trusted_hops": 1})
    async with running(app, peer="10.0.0.2") as proxy:
        alice = {"x-forwarded-for": "6.6.6.6, 203.0.113.5"}  # a forged entry, then the real one
        bob = {"x-forwarded-for": "198.51.100.7"}
        assert await statuses(proxy, "/ip", 4, headers=alice) == [200, 200, 200, 429]
        assert await statuses(proxy, "/ip", 3, headers=bob) == [200, 200, 200]
        seen = await proxy.post("/sign-in/x", headers=alice)
    assert seen.json() == {"client": "203.0.113.5"}


async def test_peers_are_counted_apart(sqlite_url: str) -> None:
    app = limited_app(sqlite_url)
    async with running(app, peer="192.0.2.1") as first:
        assert await statuses(first, "/ip", 4) == [200, 200, 200, 429]
        async with client_from(app, "192.0.2.2") as second:
            assert await statuses(second, "/ip", 1) == [200]


async def test_a_service_counts_its_own_key(sqlite_url: str) -> None:
    app = limited_app(sqlite_url)
    async with running(app) as client:
        codes = [(await client.post("/sign-in/alice")).status_code for _ in range(3)]
        bob = await client.post("/sign-in/bob")
        limiter = app_state(app).rate_limiter
        assert limiter is not None
        await limiter.forget(SIGN_IN, "alice\n192.0.2.10")  # as a successful login would
        forgotten = await client.post("/sign-in/alice")
    assert codes == [200, 200, 429]
    assert bob.status_code == 200
    assert forgotten.status_code == 200


async def test_limits_off_lift_everything(sqlite_url: str) -> None:
    app = limited_app(sqlite_url, ratelimit={"enabled": False})
    async with running(app) as client:
        answers = [await client.get("/ip") for _ in range(10)]
        assert app_state(app).rate_limiter is None
    assert {a.status_code for a in answers} == {200}
    assert all("ratelimit" not in a.headers for a in answers)


async def test_a_policy_lifted_by_settings(sqlite_url: str) -> None:
    app = limited_app(sqlite_url, ratelimit={"policies": {"by_ip": {"enabled": False}}})
    async with running(app) as client:
        assert set(await statuses(client, "/ip", 10)) == {200}


async def test_openapi_lists_the_refusals(sqlite_url: str) -> None:
    paths = limited_app(sqlite_url).openapi()["paths"]
    assert "429" in paths["/ip"]["get"]["responses"]
    assert "503" not in paths["/ip"]["get"]["responses"]
    assert {"429", "503"} <= set(paths["/closed"]["get"]["responses"])
    assert "429" not in paths["/free"]["get"]["responses"]
    problem = paths["/ip"]["get"]["responses"]["429"]["content"]
    assert list(problem) == ["application/problem+json"]
