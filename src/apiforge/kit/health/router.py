"""`/health/live`: the process answers. `/health/ready`: the database and, when configured,
Redis answer within a short timeout, and the database schema is at the service's migration
head; otherwise 503 naming what failed ("migrations: pending" for a schema that is behind).

Only what the pod cannot serve without fails readiness: the database and the schema always,
Redis only when `redis.required` is set. Redis as a mere cache failing answers 200 with
`"status": "degraded"`: a shared cache that hangs must not take every pod out of the Service
at once (the reads fall back to the database). Each check's result is also the
`<namespace>_dependency_up` gauge."""

import asyncio
import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from apiforge.kit.problems import problem_response
from apiforge.kit.state import AppState, app_config, app_state

if TYPE_CHECKING:
    from apiforge.kit.db.migrations import Migrations

health_router = APIRouter(prefix="/health", tags=["health"])
logger = logging.getLogger("apiforge.health")


class _SchemaBehindError(Exception):
    """The schema is behind the code's migrations."""


async def _check(name: str, probe: Awaitable[object], limit: float) -> str:
    try:
        async with asyncio.timeout(limit):
            await probe
    except _SchemaBehindError:
        logger.warning("readiness check %s: the database is behind; run the migrations", name)
        return "pending"
    except TimeoutError:
        logger.warning("readiness check %s timed out after %ss", name, limit)
        return "timeout"
    except Exception as exc:  # noqa: BLE001  # any failure of a dependency means "not ready", never a 500
        logger.warning("readiness check %s failed: %s", name, type(exc).__name__)
        return "error"
    return "ok"


async def _schema_current(state: AppState, migrations: "Migrations") -> None:
    async with state.database.engine.connect() as connection:
        if not await migrations.is_current(connection):
            raise _SchemaBehindError
    # Once at head it stays there while the app runs (migrations only move forward): later
    # probes skip the query.
    state.schema_current = True


CheckResult = Literal["ok", "pending", "timeout", "error"]


class Readiness(BaseModel):
    """`/health/ready`'s 200 body (documentation only: the route builds it by hand). A 503 is
    a problem with the same `checks` beside its detail."""

    status: Literal["ok", "degraded"]
    checks: dict[str, CheckResult]


@health_router.get("/live", summary="The process is up")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@health_router.get(
    "/ready",
    summary="Dependencies answer",
    responses={
        200: {"model": Readiness, "description": "Ready (`degraded`: an optional one failed)"},
        503: {"description": "A required dependency did not answer"},
    },
)
async def ready(request: Request) -> Response:
    state = app_state(request.app)
    timeout = state.settings.health.check_timeout_seconds
    names = ["database"]
    probes: list[Awaitable[object]] = [state.database.ping()]
    if state.redis is not None:
        names.append("redis")
        probes.append(state.redis.ping())
    migrations = app_config(request.app).migrations
    if migrations is not None and not state.schema_current:
        names.append("migrations")
        probes.append(_schema_current(state, migrations))
    results = await asyncio.gather(
        *(_check(n, p, timeout) for n, p in zip(names, probes, strict=True))
    )
    checks = dict(zip(names, results, strict=True))
    _record(request, checks)
    optional = set() if state.settings.redis.required else {"redis"}
    failed = [name for name, result in checks.items() if result != "ok"]
    if not failed:
        return JSONResponse({"status": "ok", "checks": checks})
    if set(failed) <= optional:
        return JSONResponse({"status": "degraded", "checks": checks})
    detail = "Not ready: " + ", ".join(name for name in failed if name not in optional)
    return problem_response(
        status=503, code="health.not_ready", detail=detail, extra={"checks": checks}
    )


def _record(request: Request, checks: dict[str, str]) -> None:
    metrics = app_config(request.app).metrics
    if metrics is None:
        return
    for name, result in checks.items():
        if name != "migrations":  # a schema state, not a dependency
            metrics.dependency_up.labels(name).set(1 if result == "ok" else 0)
