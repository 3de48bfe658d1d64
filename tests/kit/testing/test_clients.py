"""The testing clients: real tokens, and requests that do not share per-request state."""

import logging

import pytest
from fastapi import APIRouter

from apiforge.kit import CurrentPrincipal
from apiforge.kit.logs import FIELDS_ATTR
from apiforge.kit.testing import bearer_headers, running_app
from tests.kit.apps import kit_app

router = APIRouter()


@router.get("/me")
async def me(principal: CurrentPrincipal) -> dict[str, str]:
    return {"subject": principal.subject, "role": principal.role}


@router.get("/open")
async def open_route() -> dict[str, bool]:
    return {"open": True}


async def test_bearer_headers_are_real_tokens_and_requests_keep_their_own_state(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = kit_app(sqlite_url, router)
    with caplog.at_level(logging.INFO, logger="apiforge.access"):
        async with running_app(app) as client:
            signed = await client.get("/me", headers=bearer_headers(app, 42, "editor"))
            anonymous = await client.get("/open")
    assert signed.json() == {"subject": "42", "role": "editor"}
    assert anonymous.status_code == 200
    users = [
        r.__dict__[FIELDS_ATTR]["user_id"] for r in caplog.records if r.name == "apiforge.access"
    ]
    # The anonymous request is not logged as the previous caller's.
    assert users == ["42", None]
