"""The authorization matrix: every operation of the OpenAPI document x every kind of caller,
each answer compared with the policy table (tests/shop/matrix/policy.py), on SQLite and on
PostgreSQL. A route added to the app is in the document, so it is in the matrix, and the test
fails until the table says who may call it. Every answer is also held to the document's
response schemas (tests/shop/matrix/shapes.py).

OWASP API Security Top 10 2023: API1 (object level: an object of another organization is a
404, never a 403 or a 200), API2 (a revoked or expired key is a 401), API3 (property level:
answers carry exactly their schema's fields), API5 (function level: roles, scopes and
platform roles per operation)."""

import json
import re
from dataclasses import replace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from sqlalchemy.ext.asyncio import AsyncSession

from tests.shop.matrix import policy as p
from tests.shop.matrix.calls import CALLS, resolve, send
from tests.shop.matrix.shapes import Shapes
from tests.shop.matrix.world import Fresh, World, build_world

# On committed data: the dashboard reads on connections of its own, which a rolled-back test
# transaction cannot share; and so every request commits as it would in production.
# Limits are not what these are about (their own tests are test_ratelimits.py).
pytestmark = [pytest.mark.committed, pytest.mark.usefixtures("unlimited")]

# Served but not documented, each on purpose: the docs and the document itself, and the
# Prometheus endpoint. Anything else hidden from the document would hide from the matrix.
UNDOCUMENTED = {
    "/openapi.json",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    "/docs-assets",
    "/metrics",
}
BAD_CREDENTIAL = 'Bearer error="invalid_token"'


def uncovered(app: FastAPI) -> list[str]:
    """What the policy table lacks (or has in excess) against the app's document."""
    documented = p.documented_operations(app.openapi())
    covered = {p.operation_of(case) for case in p.POLICY}
    missing = [operation for operation in documented if operation not in covered]
    stale = sorted(case for case in p.POLICY if p.operation_of(case) not in documented)
    return [
        *(
            f"{operation}: not in the policy table (tests/shop/matrix/policy.py)"
            for operation in missing
        ),
        *(f"{case}: in the policy table, not in the app" for case in stale),
        *(
            f"{case}: no request in tests/shop/matrix/calls.py"
            for case in set(p.POLICY) - set(CALLS)
        ),
    ]


def test_every_documented_operation_has_a_policy(app: FastAPI) -> None:
    assert not uncovered(app), "\n".join(uncovered(app))


def test_no_route_hides_from_the_document(app: FastAPI) -> None:
    hidden = {
        str(route.path)
        for route in iter_route_contexts(app.routes)
        if not getattr(route, "include_in_schema", True)
    }
    assert hidden <= UNDOCUMENTED, f"routes outside the OpenAPI document: {hidden - UNDOCUMENTED}"


def outcome(response: httpx.Response) -> str | int:
    return p.ALLOWED if response.is_success or response.status_code == 304 else response.status_code


def unexpected(case: str, caller: str, response: httpx.Response) -> str | None:
    """What is wrong with `caller`'s answer to `case`, if anything."""
    expected, got = p.POLICY[case].expect(caller), outcome(response)
    status, text = response.status_code, response.text[:160]
    if got != expected:
        return f"{case} as {caller}: expected {expected}, got {status} {text}"
    if got == 401 and caller != p.ANONYMOUS:
        challenge = response.headers.get("www-authenticate")
        if (response.json()["code"], challenge) != ("auth.invalid_token", BAD_CREDENTIAL):
            return f"{case} as {caller}: a 401 as for no credential ({challenge}) {text}"
    if got == 401 and caller == p.ANONYMOUS and response.json()["code"] != "auth.unauthenticated":
        return f"{case} as {caller}: a 401 as for a bad credential {text}"
    return None


async def run(world: World, case: str, caller: str) -> httpx.Response:
    call = await resolve(world, CALLS[case](world, world.callers[caller]))
    response = await send(world, case, caller, call)
    if call.ends_session and response.is_success:
        await world.renew(world.callers[caller])
    return response


def refusal(response: httpx.Response) -> tuple[int, str | None, str]:
    """A refusal's answer, without what differs per request (its request id)."""
    body = {k: v for k, v in response.json().items() if k != "request_id"}
    return response.status_code, response.headers.get("www-authenticate"), json.dumps(body)


async def test_authorization_matrix(
    app: FastAPI,
    client: httpx.AsyncClient,
    session: AsyncSession,
    database_backend: str,
    record_property: Any,
) -> None:
    assert not uncovered(app), "\n".join(uncovered(app))
    world = await build_world(app, client, session)
    cases = p.cases_in_order(app.openapi())
    mismatches, bad_credentials = [], set()
    for case in cases:
        for caller in p.CALLERS:
            response = await run(world, case, caller)
            mismatch = unexpected(case, caller, response)
            if mismatch:
                mismatches.append(mismatch)
            if caller in (p.KEY_REVOKED, p.KEY_EXPIRED) and response.status_code == 401:
                bad_credentials.add(refusal(response))
    operations = len({p.operation_of(case) for case in cases})
    size = (
        f"authorization matrix on {database_backend}: {operations} operations ({len(cases)} cases)"
        f" x {len(p.CALLERS)} callers = {len(cases) * len(p.CALLERS)} requests,"
        f" {len(mismatches)} mismatches"
    )
    record_property("authorization_matrix", size)
    print(size)  # the figure the closing note quotes (pytest -s shows it)
    assert not mismatches, "\n".join([size, *mismatches])
    # A revoked key and an expired one are told the same thing: no oracle.
    assert len(bad_credentials) == 1, bad_credentials
    shapes = Shapes(app.openapi())
    problems = [m for answer in world.answers for m in shapes.problems(answer, world.secrets)]
    assert not problems, "\n".join(problems)


NOWHERE = 2**62  # an id no row has


async def test_ids_of_another_organization_are_not_found(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """B's owner and B's key, given A's ids (A's organization; or B's own, with A's member,
    key or order), get the very answer an id that exists nowhere gets; and with A's
    organization in the path, or one of A's orders, that answer is a 404."""
    world = await build_world(app, client, session)
    differences, compared = [], 0
    for case in p.cases_in_order(app.openapi()):
        if p.OWNER_B not in p.POLICY[case].hidden:
            continue
        for caller in (p.OWNER_B, p.KEY_B):
            call = await resolve(world, CALLS[case](world, world.callers[caller]))
            forms = [call.path]
            if "org_id" in call.path and len(call.path) > 1:
                forms.append({**call.path, "org_id": world.org_b})
            for ids in forms:
                seen = _answer(await send(world, case, caller, replace(call, path=ids)), ids)
                nowhere: dict[str, int | Fresh] = {
                    k: v if v == world.org_b else NOWHERE for k, v in ids.items()
                }
                control = _answer(await send(world, case, caller, replace(call, path=nowhere)), ids)
                compared += 1
                if seen != control or (ids is call.path and seen[0] != 404):
                    differences.append(f"{case} as {caller} with {ids}: {seen}, not {control}")
    assert not differences, "\n".join(differences)
    assert compared >= 2 * 14  # A's routes and A's orders (14 lines), as each of B's callers


def _answer(response: httpx.Response, ids: dict[str, Any]) -> tuple[int, str, str]:
    """Status, code and words of an answer, the ids in its words blanked."""
    body = response.json() if response.content else {}
    detail = str(body.get("detail", ""))
    for value in {*ids.values(), NOWHERE}:
        detail = re.sub(rf"\b{value}\b", "<id>", detail)
    return response.status_code, str(body.get("code", "")), detail
