"""Accounts fixtures: the service built directly (as the CLI builds it) and a login helper."""

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from apiforge.kit import app_state
from apiforge.shop.accounts.schemas import TokenPair
from apiforge.shop.accounts.service import AccountsService
from tests.factories import UserWithPassword


@pytest.fixture
def service(app: FastAPI, session: AsyncSession) -> AccountsService:
    state = app_state(app)
    return AccountsService(
        session, passwords=state.passwords, tokens=state.tokens, settings=state.settings.auth
    )


async def login(client: httpx.AsyncClient, user: UserWithPassword) -> TokenPair:
    response = await client.post(
        "/api/auth/login", json={"email": user.email, "password": user.password}
    )
    assert response.status_code == 200, response.text
    return TokenPair.model_validate(response.json())
