"""A tiny app with rate-limited routes, its clients (from any peer address), and its limiter
pinned to a test clock."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import APIRouter, FastAPI
from fastapi.responses import PlainTextResponse

from apiforge.kit import (
    CurrentPrincipal,
    LimitKey,
    OnFailure,
    Rate,
    RateLimitPolicy,
    RedisRateLimitBackend,
    RequestThrottle,
    app_state,
    create_app,
    rate_limit,
)
from apiforge.kit.ratelimit import RateLimiter
from tests.kit.apps import kit_settings
from tests.kit.ratelimit.conftest import PinnedClock

BY_IP = RateLimitPolicy("by_ip", Rate.parse_all("3/10s, 100/h"), LimitKey.CLIENT_IP)
BY_PRINCIPAL = RateLimitPolicy("by_principal", Rate.parse_all("50/10s"), LimitKey.PRINCIPAL)
SIGN_IN = RateLimitPolicy(
    "sign_in", Rate.parse_all("2/min"), LimitKey.CUSTOM, on_failure=OnFailure.LOCAL
)
CLOSED = RateLimitPolicy(
    "closed_ip", Rate.parse_all("100/min"), LimitKey.CLIENT_IP, on_failure=OnFailure.CLOSED
)
POLICIES = (BY_IP, BY_PRINCIPAL, SIGN_IN, CLOSED)

router = APIRouter()


@router.get("/ip", dependencies=[rate_limit(BY_IP)])
async def by_ip() -> PlainTextResponse:
    """Returns its own Response: the headers are added below the route, not by FastAPI."""
    return PlainTextResponse("ok")


@router.get("/me", dependencies=[rate_limit(BY_PRINCIPAL)])
async def me(principal: CurrentPrincipal) -> dict[str, str]:
    return {"subject": principal.subject}


@router.post("/sign-in/{account}")
async def sign_in(account: str, throttle: RequestThrottle) -> dict[str, str]:
    await throttle.enforce((SIGN_IN, f"{account}\n{throttle.client}"))
    return {"client": throttle.client}


@router.get("/closed", dependencies=[rate_limit(CLOSED)])
async def closed() -> dict[str, bool]:
    return {"ok": True}


@router.get("/free")
async def free() -> dict[str, bool]:
    return {"ok": True}


def limited_app(database_url: str, **overrides: Any) -> FastAPI:
    return create_app(
        kit_settings(database_url, **overrides), routers=[router], rate_limits=POLICIES
    )


def pin(app: FastAPI, clock: PinnedClock) -> RateLimiter:
    """The running app's limiter, on `clock` from now on."""
    limiter = app_state(app).rate_limiter
    assert limiter is not None
    limiter.clock = limiter.local.clock = limiter.fallback.clock = clock
    if isinstance(limiter.shared, RedisRateLimitBackend):
        limiter.shared.clock = clock
    return limiter


def client_from(app: FastAPI, peer: str) -> httpx.AsyncClient:
    """A client whose requests arrive from the socket peer `peer`."""
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@asynccontextmanager
async def running(app: FastAPI, peer: str = "192.0.2.10") -> AsyncIterator[httpx.AsyncClient]:
    async with LifespanManager(app), client_from(app, peer) as client:
        yield client
