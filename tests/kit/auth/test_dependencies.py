from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI

from apiforge.kit import CurrentPrincipal, Principal, app_state, require_roles
from tests.kit.apps import kit_app, serve

router = APIRouter()
AdminOnly = Annotated[Principal, Depends(require_roles("admin"))]


@router.get("/me")
async def me(principal: CurrentPrincipal) -> dict[str, str]:
    return {"subject": principal.subject, "role": principal.role}


@router.get("/admin")
async def admin_only(principal: AdminOnly) -> dict[str, str]:
    return {"subject": principal.subject}


@pytest.fixture
def app(sqlite_url: str) -> FastAPI:
    return kit_app(sqlite_url, router)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(app) as http:
        yield http


def _bearer(app: FastAPI, role: str) -> dict[str, str]:
    token = app_state(app).tokens.issue(Principal(subject="7", role=role)).token
    return {"Authorization": f"Bearer {token}"}


async def test_valid_token_resolves_the_principal(app: FastAPI, client: httpx.AsyncClient) -> None:
    response = await client.get("/me", headers=_bearer(app, "customer"))
    assert response.status_code == 200
    assert response.json() == {"subject": "7", "role": "customer"}


MISSING = ("auth.unauthenticated", "Bearer")
INVALID = ("auth.invalid_token", 'Bearer error="invalid_token"')  # RFC 6750 section 3.1


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, MISSING),
        ({"Authorization": "Bearer"}, MISSING),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, MISSING),
        ({"Authorization": "Bearer not-a-jwt"}, INVALID),
    ],
)
async def test_missing_or_bad_token_is_401_problem(
    client: httpx.AsyncClient, headers: dict[str, str], expected: tuple[str, str]
) -> None:
    response = await client.get("/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert (response.json()["code"], response.headers["www-authenticate"]) == expected


async def test_role_check(app: FastAPI, client: httpx.AsyncClient) -> None:
    allowed = await client.get("/admin", headers=_bearer(app, "admin"))
    assert allowed.status_code == 200
    denied = await client.get("/admin", headers=_bearer(app, "customer"))
    assert denied.status_code == 403
    assert denied.json()["code"] == "auth.permission_denied"
    anonymous = await client.get("/admin")
    assert anonymous.status_code == 401
